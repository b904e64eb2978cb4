import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { periodOf } from '../audit-log.view';
import { AuditLogRepository } from '../repositories/audit-log.repository';

export interface AuditLogStats {
  from: string;
  to: string;
  total: number;
  errors: number;
  error_rate: number;
  by_action: Array<{ action: string; count: number }>;
  by_day: Array<{ day: string; count: number; errors: number }>;
  by_user: Array<{ user_id: string | null; count: number }>;
}

/** Counts over a period: by action, by UTC day, by user (top 20), and the share of 4xx/5xx outcomes. */
export class AuditLogStatsQuery extends Query<AuditLogStats> {
  constructor(
    readonly from?: Date,
    readonly to?: Date,
  ) {
    super();
  }
}

@QueryHandler(AuditLogStatsQuery)
export class AuditLogStatsHandler implements IQueryHandler<AuditLogStatsQuery> {
  constructor(private readonly auditLogs: AuditLogRepository) {}

  async execute(query: AuditLogStatsQuery): Promise<AuditLogStats> {
    const period = periodOf(query.from, query.to);
    const [totals, byAction, byDay, byUser] = await Promise.all([
      this.auditLogs.totals(period),
      this.auditLogs.statsByAction(period),
      this.auditLogs.statsByDay(period),
      this.auditLogs.statsByUser(period),
    ]);
    return {
      from: period.from.toISOString(),
      to: period.to.toISOString(),
      total: totals.total,
      errors: totals.errors,
      error_rate: totals.total === 0 ? 0 : Math.round((totals.errors / totals.total) * 10_000) / 10_000,
      by_action: byAction,
      by_day: byDay,
      by_user: byUser,
    };
  }
}
