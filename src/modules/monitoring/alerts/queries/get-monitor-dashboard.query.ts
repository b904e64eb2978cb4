import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../../common/auth/ownership';
import { AuditLogView, ListAuditLogsQuery } from '../../../audit/queries/list-audit-logs.query';
import { GetMonitorStatsQuery, MonitorStats } from '../../queries/get-monitor-stats.query';
import type { AlertRow } from '../alert-rule';
import { AlertRepository } from '../repositories/alert.repository';

/** How many open alerts and audit entries the dashboard shows. */
export const DASHBOARD_ALERTS = 5;
export const DASHBOARD_ACTIVITIES = 10;

/** One of the caller's audit entries, as the dashboard shows it. */
export type RecentActivity = Pick<AuditLogView, 'id' | 'action' | 'resource_type' | 'resource_id' | 'status_code' | 'method' | 'path' | 'created_at'>;

export interface MonitorDashboard {
  stats: MonitorStats;
  alerts: AlertRow[];
  recentActivities: RecentActivity[];
}

/**
 * GET /monitor/dashboard: the caller's monitor statistics (GetMonitorStatsQuery),
 * their newest open alerts and their latest audit entries (the audit context's
 * ListAuditLogsQuery: the last 30 days, newest first).
 */
export class GetMonitorDashboardQuery extends Query<MonitorDashboard> {
  constructor(readonly actor: Actor) {
    super();
  }
}

@QueryHandler(GetMonitorDashboardQuery)
export class GetMonitorDashboardHandler implements IQueryHandler<GetMonitorDashboardQuery> {
  constructor(
    private readonly alerts: AlertRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor }: GetMonitorDashboardQuery): Promise<MonitorDashboard> {
    const [stats, alerts, activity] = await Promise.all([
      this.queries.execute(new GetMonitorStatsQuery(actor)),
      this.alerts.openNewest(actor.userId, DASHBOARD_ALERTS),
      this.queries.execute(new ListAuditLogsQuery({ user_id: actor.userId, page: 1, limit: DASHBOARD_ACTIVITIES })),
    ]);
    const recentActivities = activity.logs.map((log) => ({
      id: log.id, action: log.action, resource_type: log.resource_type, resource_id: log.resource_id,
      status_code: log.status_code, method: log.method, path: log.path, created_at: log.created_at,
    }));
    return { stats, alerts, recentActivities };
  }
}
