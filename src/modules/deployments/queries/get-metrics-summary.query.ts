import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import type { Actor } from '../../../common/auth/ownership';
import { MetricPeriod, periodMs } from '../metrics/metric-buckets';
import { SandboxMetricsRepository } from '../metrics/sandbox-metrics.repository';

export interface MetricsSummary {
  /** Deployments that exist (any status). */
  total_deployments: number;
  /** Of them, those running now. */
  active_deployments: number;
  /** Requests through the proxy over the period. */
  total_requests: number;
  /** Their share answered 5xx (or not answered) over the period; 0 without requests. */
  error_rate: number;
  period: MetricPeriod;
  /** Where the period starts. */
  since: string;
}

/** The caller's deployments at a glance; `all`: everyone's, for an admin only (403 for anyone else). */
export class GetMetricsSummaryQuery extends Query<MetricsSummary> {
  constructor(
    readonly actor: Actor,
    readonly all: boolean,
    readonly period: MetricPeriod = '24h',
    readonly now: Date = new Date(),
  ) {
    super();
  }
}

@QueryHandler(GetMetricsSummaryQuery)
export class GetMetricsSummaryHandler implements IQueryHandler<GetMetricsSummaryQuery> {
  constructor(private readonly metrics: SandboxMetricsRepository) {}

  async execute({ actor, all, period, now }: GetMetricsSummaryQuery): Promise<MetricsSummary> {
    if (all && !actor.admin) throw AppError.forbidden('Only an admin may see every user\'s deployments (all=true)');
    const since = new Date(now.getTime() - periodMs(period));
    const totals = await this.metrics.totals(all ? null : actor.userId, since);
    return {
      total_deployments: totals.totalDeployments,
      active_deployments: totals.activeDeployments,
      total_requests: totals.requests,
      error_rate: totals.requests > 0 ? Math.round((totals.errors / totals.requests) * 10_000) / 10_000 : 0,
      period,
      since: since.toISOString(),
    };
  }
}
