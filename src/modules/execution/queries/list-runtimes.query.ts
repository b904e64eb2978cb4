import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { GetPlanQuery } from '../../plans/queries/get-plan.query';
import { SandboxPool } from '../sandbox/sandbox-pool';

const DEFAULT_PLAN = 'free';

export interface RuntimeInfo {
  language: string;
  version: string;
  /** The free plan's limits. */
  default_timeout_ms: number;
  default_memory_mb: number;
  output_limit_bytes: number;
}

export interface RuntimeList {
  runtimes: RuntimeInfo[];
  /** How code is isolated here: bwrap, none or unavailable. */
  sandbox: string;
  sandbox_message?: string;
  memory_limit_mechanism?: string;
}

/** The runtimes with their versions and the default (free plan) limits. */
export class ListRuntimesQuery extends Query<RuntimeList> {}

@QueryHandler(ListRuntimesQuery)
export class ListRuntimesHandler implements IQueryHandler<ListRuntimesQuery> {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sandboxes: SandboxPool,
    private readonly queries: QueryBus,
  ) {}

  async execute(): Promise<RuntimeList> {
    const plan = await this.queries.execute(new GetPlanQuery(DEFAULT_PLAN));
    const { status } = this.sandboxes;
    return {
      runtimes: this.sandboxes.runtimes.map(({ language, version }) => ({
        language,
        version,
        default_timeout_ms: (plan?.execution_timeout_seconds ?? 5) * 1000,
        default_memory_mb: plan?.execution_memory_mb ?? 128,
        output_limit_bytes: this.config.execution.captureBytes,
      })),
      sandbox: status.mechanism,
      ...(status.message ? { sandbox_message: status.message } : {}),
      ...(status.memory ? { memory_limit_mechanism: status.memory } : {}),
    };
  }
}
