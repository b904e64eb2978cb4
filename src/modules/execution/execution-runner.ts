import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { ClusterBus } from '../../common/events/cluster-bus';
import { AppLogger } from '../../common/logging/app-logger';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { ExecutionEntity, FINISHED, TestCaseResult } from './entities/execution.entity';
import { ExecutionRepository } from './repositories/execution.repository';
import { OutputStream, RunLimits, RunOutcome, SandboxEnvironment } from './sandbox/sandbox';
import { SandboxPool } from './sandbox/sandbox-pool';
import { LeftQueueError, WorkQueue } from './work-queue';

const CANCEL_TOPIC = 'execution.cancel';

/** A run accepted on this replica: its output as it comes, and its end. */
export interface ActiveRun {
  id: string;
  /** `output` (stream, text) while it runs, for runs planned with streamOutput; `test` (result) per test case. */
  events: EventEmitter;
  /** The finished row; never rejects. */
  done: Promise<ExecutionEntity>;
}

interface Internal extends ActiveRun {
  abort: AbortController;
  environment?: SandboxEnvironment;
  streamOutput: boolean;
}

/** How an accepted run is to be run. */
export interface RunPlan {
  limits: RunLimits;
  /** The owner's plan's cap on runs at once (null: none). */
  concurrencyCap: number | null;
  /** A worker slot the caller already holds (WorkQueue.tryEnter); the row is then stored as running. */
  admitted?: () => void;
  /** The Python environment selected with environment_id. */
  environment?: SandboxEnvironment;
  /**
   * Whether output is emitted as it arrives (for a stream); other runs get it
   * with their outcome only, which saves passing every chunk between processes.
   */
  streamOutput?: boolean;
  /**
   * The row's insert, when the run starts before it is done: if it fails (or
   * the quota said no), the run is stopped and its result neither stored nor emitted.
   */
  accepted?: Promise<boolean>;
}

/** Same output, ignoring trailing whitespace on each line and trailing blank lines. */
export function outputMatches(actual: string, expected: string): boolean {
  const normalise = (text: string) => text.replace(/\r\n/g, '\n').split('\n').map((line) => line.trimEnd()).join('\n').trimEnd();
  return normalise(actual) === normalise(expected);
}

/**
 * Runs accepted executions: waits for a worker slot (WorkQueue), runs the code
 * in a fresh sandbox (once per test case), and writes the result to the row
 * that was inserted when the request was accepted.
 */
@Injectable()
export class ExecutionRunner implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  readonly queue: WorkQueue;
  private readonly active = new Map<string, Internal>();
  /** Runs this replica finished since it started, by language and final status (for GET /metrics). */
  readonly finishedCounts = new Map<string, { language: string; status: string; count: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly executions: ExecutionRepository,
    private readonly sandboxes: SandboxPool,
    private readonly bus: ClusterBus,
    private readonly logger: AppLogger,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.queue = new WorkQueue(config.execution.concurrency, config.execution.queueSize);
  }

  onModuleInit(): void {
    // Shutting down closes the HTTP server first, which waits for open requests;
    // a sync /execute would hold it for up to its time limit. So runs are
    // stopped (status killed, answered as such) as soon as closing begins.
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('preClose', async () => {
      await this.onApplicationShutdown();
    });
  }

  onApplicationBootstrap(): void {
    this.bus.subscribe(CANCEL_TOPIC, (id) => this.active.get(id)?.abort.abort());
  }

  /** Stops every run still here; each records itself as killed. */
  async onApplicationShutdown(): Promise<void> {
    const runs = [...this.active.values()];
    for (const run of runs) run.abort.abort();
    await Promise.all(runs.map((run) => run.done));
  }

  find(id: string): ActiveRun | undefined {
    return this.active.get(id);
  }

  /** A run's end when another replica (or nobody, any more) runs it: polls its row. */
  async settled(row: ExecutionEntity): Promise<ExecutionEntity> {
    const deadline = Date.now() + row.timeoutMs * Math.max(1, row.tests?.length ?? 1) + 60_000;
    let current = row;
    while (!FINISHED(current.status) && Date.now() < deadline) {
      await sleep(200);
      current = (await this.executions.findById(row.id)) ?? current;
    }
    return current;
  }

  /** Asks whichever replica holds the run to stop it. */
  cancel(id: string): Promise<void> {
    return this.bus.publish(CANCEL_TOPIC, id);
  }

  start(row: ExecutionEntity, plan: RunPlan): ActiveRun {
    const run: Internal = {
      id: row.id,
      events: new EventEmitter(),
      abort: new AbortController(),
      done: Promise.resolve(row),
      environment: plan.environment,
      streamOutput: plan.streamOutput ?? false,
    };
    run.events.on('error', () => undefined);
    this.active.set(row.id, run);
    const accepted = plan.accepted?.catch(() => false);
    void accepted?.then((ok) => ok || run.abort.abort());
    run.done = this.execute(row, plan, run, accepted).finally(() => this.active.delete(row.id));
    return run;
  }

  private async execute(row: ExecutionEntity, plan: RunPlan, run: Internal, accepted?: Promise<boolean>): Promise<ExecutionEntity> {
    const { limits, admitted } = plan;
    let release = admitted;
    if (!release) {
      try {
        release = await this.queue.enter(row.userId, plan.concurrencyCap, run.abort.signal);
      } catch (error) {
        const status = error instanceof LeftQueueError ? 'killed' : 'internal_error';
        return this.finish(row, { status, finishedAt: new Date() });
      }
    }
    try {
      const startedAt = row.startedAt ?? new Date();
      // Not awaited: the run need not wait for the bookkeeping; the final update follows it.
      const marked = admitted ? Promise.resolve() : this.executions.markRunning(row.id, startedAt).catch(() => undefined);
      const result = row.tests ? await this.runTests(row, limits, run) : await this.runOnce(row, row.stdin, limits, run);
      await marked;
      return await this.finish(row, { ...result, startedAt, finishedAt: new Date() }, accepted);
    } catch (error) {
      this.logger.error(`execution ${row.id} failed: ${(error as Error).stack ?? error}`);
      return this.finish(row, { status: 'internal_error', finishedAt: new Date() }, accepted);
    } finally {
      release();
    }
  }

  private async runOnce(row: ExecutionEntity, stdin: string, limits: RunLimits, run: Internal): Promise<Partial<ExecutionEntity>> {
    const onOutput = run.streamOutput ? (stream: OutputStream, text: string) => run.events.emit('output', stream, text) : undefined;
    const outcome = await this.sandboxed(row, stdin, limits, run, onOutput);
    return fieldsOf(outcome);
  }

  private async runTests(row: ExecutionEntity, limits: RunLimits, run: Internal): Promise<Partial<ExecutionEntity>> {
    const cases: TestCaseResult[] = [];
    let summary: RunOutcome | undefined;
    for (const test of row.tests!) {
      if (run.abort.signal.aborted) break;
      const outcome = await this.sandboxed(row, test.stdin, limits, run);
      const passed = outcome.status === 'success' && outputMatches(outcome.stdout, test.expected_output);
      const result: TestCaseResult = {
        stdin: test.stdin,
        expected_output: test.expected_output,
        status: outcome.status,
        passed,
        exit_code: outcome.exitCode,
        stdout: outcome.stdout,
        stderr: outcome.stderr,
        truncated: outcome.truncated,
        execution_time_ms: outcome.wallMs,
        memory_used_kb: outcome.memoryKb,
      };
      cases.push(result);
      run.events.emit('test', result);
      // The run's own fields show the first case that did not pass (or the last one).
      if (!summary || (!passed && cases.filter((c) => !c.passed).length === 1)) summary = outcome;
    }
    const fields = summary ? fieldsOf(summary) : { status: 'killed' as const };
    if (run.abort.signal.aborted) fields.status = 'killed';
    return { ...fields, tests: cases };
  }

  private async sandboxed(
    row: ExecutionEntity,
    stdin: string,
    limits: RunLimits,
    run: Internal,
    onOutput?: (stream: OutputStream, text: string) => void,
  ): Promise<RunOutcome> {
    const outcome = await this.sandboxes.run(
      {
        language: row.language,
        code: row.code,
        files: row.files,
        args: row.args,
        stdin,
        limits,
        nodeBinary: this.config.execution.nodeBinary,
        environment: run.environment,
      },
      { onOutput, signal: run.abort.signal },
    );
    if (outcome.internalError) this.logger.error(`execution ${row.id}: ${outcome.internalError}`);
    return outcome;
  }

  /** Stores the outcome; `accepted`: the insert of a run started ahead of it, with nothing to store if that failed. */
  private async finish(row: ExecutionEntity, fields: Partial<ExecutionEntity>, accepted?: Promise<boolean>): Promise<ExecutionEntity> {
    if (accepted && !(await accepted)) {
      row.status = 'killed';
      return row;
    }
    Object.assign(row, fields);
    this.countFinished(row);
    try {
      await this.executions.finish(row.id, fields);
    } catch (error) {
      this.logger.error(`execution ${row.id}: could not store the result: ${(error as Error).message}`);
    }
    return row;
  }

  private countFinished({ language, status }: ExecutionEntity): void {
    const key = `${language} ${status}`;
    const entry = this.finishedCounts.get(key);
    if (entry) entry.count++;
    else this.finishedCounts.set(key, { language, status, count: 1 });
  }
}

function fieldsOf(outcome: RunOutcome): Partial<ExecutionEntity> {
  return {
    status: outcome.status,
    exitCode: outcome.exitCode,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    stdoutTruncated: outcome.truncated.stdout,
    stderrTruncated: outcome.truncated.stderr,
    executionTimeMs: outcome.wallMs,
    cpuTimeMs: outcome.cpuMs,
    memoryUsedKb: outcome.memoryKb,
  };
}
