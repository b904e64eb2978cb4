import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { ListAuditLogsQuery } from '../../audit/queries/list-audit-logs.query';
import { GetMetricsSummaryQuery } from '../../deployments/queries/get-metrics-summary.query';
import { GetExecutionStatsQuery } from '../../execution/queries/get-execution-stats.query';
import { ServerRepository } from '../repositories/server.repository';

/** How far back the error rate looks. */
const ERROR_WINDOW_MS = 24 * 3_600_000;

export interface MonitorStats {
  /** The caller's servers (an admin's: with the platform's own `local`); neither online nor offline is unknown (not probed). */
  servers: { total: number; online: number; offline: number };
  /** The caller's deployments: all of them, and those running now. */
  deployments: { total: number; running: number };
  /** The caller's code runs created this UTC day. */
  executions: { today: number };
  /**
   * The caller's state-changing requests over the last 24 hours, from the
   * audit log, and the share answered 4xx or 5xx (0 without requests).
   */
  requests: { total: number; errors: number; error_rate: number; since: string };
}

/**
 * GET /monitor/stats: one user's figures at a glance, put together from the
 * servers here and the deployments', execution's and audit contexts' own
 * queries. Other contexts ask it too (the monitor dashboard).
 */
export class GetMonitorStatsQuery extends Query<MonitorStats> {
  constructor(
    readonly actor: Actor,
    readonly now: Date = new Date(),
  ) {
    super();
  }
}

@QueryHandler(GetMonitorStatsQuery)
export class GetMonitorStatsHandler implements IQueryHandler<GetMonitorStatsQuery> {
  constructor(
    private readonly servers: ServerRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor, now }: GetMonitorStatsQuery): Promise<MonitorStats> {
    const since = new Date(now.getTime() - ERROR_WINDOW_MS);
    const audited = (status?: string) =>
      this.queries.execute(new ListAuditLogsQuery({ user_id: actor.userId, status, from: since, to: now, page: 1, limit: 1 })).then((r) => r.pagination.total);
    const [servers, deployments, executions, total, clientErrors, serverErrors] = await Promise.all([
      this.servers.counts(actor.userId, actor.admin),
      // The caller's own (all=false), whatever their role; the period does not matter for the counts used here.
      this.queries.execute(new GetMetricsSummaryQuery({ userId: actor.userId, admin: actor.admin }, false, '24h', now)),
      this.queries.execute(new GetExecutionStatsQuery(actor.userId, 1)),
      audited(),
      audited('4xx'),
      audited('5xx'),
    ]);
    const errors = clientErrors + serverErrors;
    return {
      servers,
      deployments: { total: deployments.total_deployments, running: deployments.active_deployments },
      executions: { today: executions.today },
      requests: { total, errors, error_rate: total > 0 ? Math.round((errors / total) * 10_000) / 10_000 : 0, since: since.toISOString() },
    };
  }
}
