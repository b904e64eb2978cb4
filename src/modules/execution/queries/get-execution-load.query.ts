import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { ExecutionRunner } from '../execution-runner';
import { SandboxPool } from '../sandbox/sandbox-pool';

export interface ExecutionLoad {
  /** Runs waiting for a worker slot on this replica. */
  queued: number;
  /** Runs holding a worker slot on this replica. */
  running: number;
  /** EXECUTION_CONCURRENCY and EXECUTION_QUEUE_SIZE. */
  concurrency: number;
  queue_capacity: number;
  /** Sandboxes ready for a run now; null when the sandbox host did not answer. */
  warm_sandboxes: number | null;
  /** Runs this replica finished since it started, by language and final status. */
  finished: Array<{ language: string; status: string; count: number }>;
}

/** This replica's execution load, counted now (for GET /metrics). */
export class GetExecutionLoadQuery extends Query<ExecutionLoad> {}

@QueryHandler(GetExecutionLoadQuery)
export class GetExecutionLoadHandler implements IQueryHandler<GetExecutionLoadQuery> {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: ExecutionRunner,
    private readonly sandboxes: SandboxPool,
  ) {}

  async execute(): Promise<ExecutionLoad> {
    const { queue } = this.runner;
    return {
      queued: queue.queued,
      running: queue.active,
      concurrency: this.config.execution.concurrency,
      queue_capacity: this.config.execution.queueSize,
      warm_sandboxes: await this.sandboxes.warmSandboxes(),
      finished: [...this.runner.finishedCounts.values()].map((entry) => ({ ...entry })),
    };
  }
}
