import { Inject } from '@nestjs/common';
import { Command, CommandHandler, EventBus, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { ResolvedEnvironment, ResolveEnvironmentQuery } from '../../environments/queries/resolve-environment.query';
import { GetPlanQuery } from '../../plans/queries/get-plan.query';
import { ExecutionEntity } from '../entities/execution.entity';
import { RealtimeEvent } from '../../../common/events/realtime-event';
import { ExecutionFinishedEvent } from '../events/execution-finished.event';
import { nextUtcMidnight, resolveLimits } from '../execution-limits';
import { ActiveRun, ExecutionRunner, RunPlan } from '../execution-runner';
import { ExecutionRepository } from '../repositories/execution.repository';
import { SandboxPool } from '../sandbox/sandbox-pool';

const UNLIMITED = 2 ** 31 - 1;
const UNIQUE_VIOLATION = '23505';

/** What a run is made of: POST /execute's body (ExecuteRequest) or another context's RunCodeRequest. */
export interface StartExecutionInput {
  code: string;
  language?: 'python' | 'javascript';
  stdin?: string;
  environment_id?: string;
  timeout_ms?: number;
  memory_mb?: number;
  args?: string[];
  /** More source files next to the entry file. */
  files?: Array<{ path: string; content: string }>;
  /** Run once per case. */
  tests?: Array<{ stdin?: string; expected_output: string }>;
}

export interface StartedExecution {
  row: ExecutionEntity;
  /** The run, when it runs on this replica (its live output); absent for most replays. */
  run?: ActiveRun;
  /** The finished row. */
  done: Promise<ExecutionEntity>;
  /** True when a repeated Idempotency-Key answered an earlier run: this request does not own it. */
  replayed: boolean;
}

/**
 * How the caller follows the run: `wait` for its result (POST /execute),
 * `stream` its output as it comes (POST /execute/stream), or `background`
 * (`?wait=false`: answered at once as queued; the run takes its turn in the queue).
 */
export type ExecutionMode = 'wait' | 'stream' | 'background';

/**
 * Accepts a run: resolves the limits from the caller's plan, counts it against
 * the daily quota and inserts its row in one statement (exact under
 * concurrency), then hands it to the runner. A repeated Idempotency-Key returns
 * the first run instead.
 */
export class StartExecutionCommand extends Command<StartedExecution> {
  constructor(
    readonly principal: Principal,
    readonly request: StartExecutionInput,
    readonly idempotencyKey: string | undefined,
    readonly mode: ExecutionMode = 'wait',
  ) {
    super();
  }
}

@CommandHandler(StartExecutionCommand)
export class StartExecutionHandler implements ICommandHandler<StartExecutionCommand> {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly executions: ExecutionRepository,
    private readonly runner: ExecutionRunner,
    private readonly sandboxes: SandboxPool,
    private readonly queries: QueryBus,
    private readonly events: EventBus,
  ) {}

  async execute({ principal, request, idempotencyKey, mode }: StartExecutionCommand): Promise<StartedExecution> {
    if (idempotencyKey) {
      const earlier = await this.replay(principal.user_id, idempotencyKey);
      if (earlier) return earlier;
    }
    const environment = request.environment_id ? await this.environmentFor(principal, request.environment_id, request.language) : undefined;
    const { status } = this.sandboxes;
    if (status.mechanism === 'unavailable') {
      throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, `Code execution is unavailable: ${status.message}`);
    }
    if (!this.runner.queue.accepting) {
      throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'Too many runs are waiting; try again shortly', { retry_after: 1 }, { 'Retry-After': '1' });
    }

    const admin = principal.role === 'admin';
    const plan = admin ? undefined : await this.queries.execute(new GetPlanQuery(principal.level));
    if (!admin && !plan) throw new AppError(ErrorCode.INTERNAL_ERROR, `unknown plan ${principal.level}`);
    const { limits, problems } = resolveLimits(plan ?? 'admin', request, this.config.execution);
    if (Object.keys(problems).length > 0) throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: problems });
    // A cap of 0 would leave the run waiting in the queue forever (and hold the request open).
    if (plan && plan.max_concurrent_executions === 0) {
      throw new AppError(ErrorCode.FORBIDDEN, `The ${principal.level} plan allows no concurrent runs`, { limit: 0, level: principal.level });
    }

    const source = principal.via === 'api_key' ? 'api' : 'web';
    const quotaName = source === 'api' ? 'api_executions_per_day' : 'executions_per_day';
    const quota = admin ? null : plan![quotaName];
    const row: ExecutionEntity = {
      id: uuidv7(),
      userId: principal.user_id,
      apiKeyId: principal.api_key_id ?? null,
      source,
      language: request.language ?? 'python',
      environment: environment?.name ?? 'system',
      environmentId: environment?.id ?? null,
      code: request.code,
      stdin: request.stdin ?? '',
      args: request.args ?? [],
      files: (request.files ?? []).map(({ path, content }) => ({ path, content })),
      tests: request.tests?.map((test) => ({ stdin: test.stdin ?? '', expected_output: test.expected_output })) ?? null,
      status: 'queued',
      exitCode: null,
      stdout: '',
      stderr: '',
      stdoutTruncated: false,
      stderrTruncated: false,
      executionTimeMs: null,
      cpuTimeMs: null,
      memoryUsedKb: null,
      timeoutMs: limits.wallMs,
      memoryMb: limits.memoryMb,
      idempotencyKey: idempotencyKey ?? null,
      createdAt: new Date(),
      startedAt: null,
      finishedAt: null,
    };

    // A caller waiting for the result takes a free worker slot before the
    // insert, so the row is stored as running and no second write is needed.
    const cap = admin ? null : plan!.max_concurrent_executions;
    const admitted = mode === 'background' ? undefined : this.runner.queue.tryEnter(principal.user_id, cap);
    if (admitted) {
      row.status = 'running';
      row.startedAt = row.createdAt;
    }
    const runPlan: RunPlan = {
      limits,
      concurrencyCap: cap,
      admitted,
      environment: environment && { directory: environment.directory, pythonBinary: environment.python_binary },
      // A streamed run's output goes to its caller, a background run's to its channel (watchLive).
      streamOutput: mode !== 'wait',
    };
    const inserting = this.executions.insertCounted(row, quota ?? UNLIMITED);
    // A caller who waits for the result and already holds a worker slot has its
    // code started while the insert is on its way (~1-2 ms sooner): the run is
    // stopped, and nothing of it stored or shown, if the insert fails or the
    // quota is used up. Not for streams, whose output must not start before the
    // row exists.
    let run = admitted && mode === 'wait' ? this.runner.start(row, { ...runPlan, accepted: inserting }) : undefined;
    // The worker slot is the runner's to release once it has started the run.
    const release = () => (run ? undefined : admitted?.());
    let inserted = false;
    try {
      inserted = await inserting;
    } catch (error) {
      release();
      if (idempotencyKey && (error as { code?: string }).code === UNIQUE_VIOLATION) {
        const earlier = await this.replay(principal.user_id, idempotencyKey);
        if (earlier) return earlier;
      }
      throw error;
    }
    if (!inserted) {
      release();
      // A concurrent request with the same key may have taken the last unit of quota for this very run.
      if (idempotencyKey) {
        const earlier = await this.replay(principal.user_id, idempotencyKey);
        if (earlier) return earlier;
      }
      const kind = source === 'api' ? 'API-key runs' : 'runs';
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `Daily quota of ${quota} ${kind} reached; it resets at midnight UTC`, {
        quota: quotaName,
        limit: quota,
        resets_at: nextUtcMidnight().toISOString(),
      });
    }
    run ??= this.runner.start(row, runPlan);
    if (mode !== 'wait') this.watchLive(run);
    // A background run's caller left with a 202: its owner is told when it ends (done never rejects).
    if (mode === 'background') void run.done.then((finished) => this.events.publish(finishedEventOf(finished)));
    return { row, run, done: run.done, replayed: false };
  }

  /**
   * The run's channel (`execution:<id>`, WebSocket): each piece of output as a
   * `log` {stream, data} and its end as an `update` with the outcome (the
   * whole output stays with GET /executions/:id).
   */
  private watchLive(run: ActiveRun): void {
    const channel = `execution:${run.id}`;
    run.events.on('output', (stream: string, data: string) => this.events.publish(new RealtimeEvent(channel, 'log', { stream, data })));
    void run.done.then((finished) =>
      this.events.publish(
        new RealtimeEvent(channel, 'update', {
          id: finished.id,
          status: finished.status,
          exit_code: finished.exitCode,
          execution_time_ms: finished.executionTimeMs,
          cpu_time_ms: finished.cpuTimeMs,
          memory_used_kb: finished.memoryUsedKb,
          finished_at: finished.finishedAt?.toISOString() ?? null,
        }),
      ),
    );
  }

  /** The caller's own, a public, or (for admins) any environment; Python only. */
  private async environmentFor(principal: Principal, environmentId: string, language: string | undefined): Promise<ResolvedEnvironment> {
    if ((language ?? 'python') !== 'python') {
      throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { environment_id: ['environments are for python runs'] } });
    }
    const environment = await this.queries.execute(new ResolveEnvironmentQuery(environmentId, actorOf(principal)));
    if (!environment) throw AppError.notFound('Environment');
    return environment;
  }

  private async replay(userId: string, idempotencyKey: string): Promise<StartedExecution | undefined> {
    const row = await this.executions.findByIdempotencyKey(userId, idempotencyKey);
    if (!row) return undefined;
    const run = this.runner.find(row.id);
    return { row, run, done: run?.done ?? this.runner.settled(row), replayed: true };
  }
}

function finishedEventOf(row: ExecutionEntity): ExecutionFinishedEvent {
  return new ExecutionFinishedEvent(row.id, row.userId, row.status, row.language, row.exitCode, row.executionTimeMs ?? undefined);
}
