import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { periodOf } from '../audit-log.view';
import { auditWhere } from './list-audit-logs.query';

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
  constructor(private readonly dataSource: DataSource) {}

  async execute(query: AuditLogStatsQuery): Promise<AuditLogStats> {
    const period = periodOf(query.from, query.to);
    const where = auditWhere(period);
    const run = <T>(sql: string) => this.dataSource.query(sql, where.params) as Promise<T[]>;
    const [[totals], byAction, byDay, byUser] = await Promise.all([
      run<{ total: number; errors: number }>(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE status_code >= 400)::int AS errors FROM audit_logs WHERE ${where.sql}`,
      ),
      run<{ action: string; count: number }>(
        `SELECT action, count(*)::int AS count FROM audit_logs WHERE ${where.sql} GROUP BY action ORDER BY count DESC, action LIMIT 100`,
      ),
      run<{ day: string; count: number; errors: number }>(
        `SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS count,
                count(*) FILTER (WHERE status_code >= 400)::int AS errors
           FROM audit_logs WHERE ${where.sql} GROUP BY 1 ORDER BY 1`,
      ),
      run<{ user_id: string | null; count: number }>(
        `SELECT user_id, count(*)::int AS count FROM audit_logs WHERE ${where.sql} GROUP BY user_id ORDER BY count DESC LIMIT 20`,
      ),
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
