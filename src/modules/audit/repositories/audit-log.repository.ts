import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { periodOf } from '../audit-log.view';

/** Which entries a read is about; without `from`/`to`, the last 30 days (periodOf). */
export interface AuditLogSearch {
  user_id?: string;
  action?: string;
  resource_type?: string;
  /** An exact status (404) or a class ('4xx'). */
  status?: string;
  ip?: string;
  from?: Date;
  to?: Date;
}

export interface AuditPeriod {
  from: Date;
  to: Date;
}

/**
 * A loose index scan over the action index: one probe per distinct action
 * instead of reading every row (the CTE `a` lists the actions, then a NULL).
 */
const DISTINCT_ACTIONS = `WITH RECURSIVE a AS (
         (SELECT action FROM audit_logs ORDER BY action LIMIT 1)
         UNION ALL
         SELECT (SELECT action FROM audit_logs WHERE action > a.action ORDER BY action LIMIT 1) FROM a WHERE a.action IS NOT NULL
       )`;

/**
 * Reads of `audit_logs`. The table is partitioned by month and exists only in
 * the migrations (no entity), so these are plain SQL. Lists and statistics
 * always filter on created_at, so PostgreSQL reads only the months asked for.
 * Rows are written by AuditWriter, with COPY (see there).
 */
@Injectable()
export class AuditLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One page of matching entries, newest first, and how many match in all (the two statements run at once). */
  async search(filters: AuditLogSearch, page: { page: number; limit: number }): Promise<{ rows: Array<Record<string, unknown>>; total: number }> {
    const where = auditWhere(filters);
    const offset = (page.page - 1) * page.limit;
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT * FROM audit_logs WHERE ${where.sql} ORDER BY created_at DESC, id DESC LIMIT ${page.limit} OFFSET ${offset}`,
        where.params,
      ) as Promise<Array<Record<string, unknown>>>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM audit_logs WHERE ${where.sql}`, where.params) as Promise<Array<{ total: number }>>,
    ]);
    return { rows, total };
  }

  /** All entries of the period, and those with a 4xx or 5xx outcome. */
  async totals(period: AuditPeriod): Promise<{ total: number; errors: number }> {
    const where = auditWhere(period);
    const [totals] = (await this.dataSource.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE status_code >= 400)::int AS errors FROM audit_logs WHERE ${where.sql}`,
      where.params,
    )) as Array<{ total: number; errors: number }>;
    return totals;
  }

  /** Entries per action, most frequent first (100 at most). */
  statsByAction(period: AuditPeriod): Promise<Array<{ action: string; count: number }>> {
    const where = auditWhere(period);
    return this.dataSource.query(
      `SELECT action, count(*)::int AS count FROM audit_logs WHERE ${where.sql} GROUP BY action ORDER BY count DESC, action LIMIT 100`,
      where.params,
    );
  }

  /** Entries and errors per UTC day, in order. */
  statsByDay(period: AuditPeriod): Promise<Array<{ day: string; count: number; errors: number }>> {
    const where = auditWhere(period);
    return this.dataSource.query(
      `SELECT to_char(date_trunc('day', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, count(*)::int AS count,
              count(*) FILTER (WHERE status_code >= 400)::int AS errors
         FROM audit_logs WHERE ${where.sql} GROUP BY 1 ORDER BY 1`,
      where.params,
    );
  }

  /** Entries per user, the 20 most active. */
  statsByUser(period: AuditPeriod): Promise<Array<{ user_id: string | null; count: number }>> {
    const where = auditWhere(period);
    return this.dataSource.query(
      `SELECT user_id, count(*)::int AS count FROM audit_logs WHERE ${where.sql} GROUP BY user_id ORDER BY count DESC LIMIT 20`,
      where.params,
    );
  }

  /** The distinct values of `column` in one user's entries, sorted. */
  async distinctValuesOfUser(column: 'action' | 'resource_type', userId: string): Promise<string[]> {
    const rows: Array<{ value: string }> = await this.dataSource.query(
      `SELECT DISTINCT ${column} AS value FROM audit_logs WHERE user_id = $1 AND ${column} IS NOT NULL ORDER BY 1`,
      [userId],
    );
    return rows.map((r) => r.value);
  }

  /** Every action in the log. */
  async distinctActions(): Promise<string[]> {
    const rows: Array<{ value: string }> = await this.dataSource.query(`${DISTINCT_ACTIONS} SELECT action AS value FROM a WHERE action IS NOT NULL`);
    return rows.map((r) => r.value);
  }

  /** Every resource type in the log, sorted. Each action belongs to one resource type, so these are those of one row per action. */
  async distinctResourceTypes(): Promise<string[]> {
    const rows: Array<{ value: string }> = await this.dataSource.query(
      `${DISTINCT_ACTIONS} SELECT DISTINCT t.resource_type AS value
         FROM a CROSS JOIN LATERAL (SELECT resource_type FROM audit_logs l WHERE l.action = a.action LIMIT 1) t
        WHERE a.action IS NOT NULL AND t.resource_type IS NOT NULL ORDER BY 1`,
    );
    return rows.map((r) => r.value);
  }
}

/** The WHERE condition and its parameters; always a created_at range, so PostgreSQL prunes other months' partitions. */
function auditWhere(filters: AuditLogSearch): { sql: string; params: unknown[] } {
  const { from, to } = periodOf(filters.from, filters.to);
  const params: unknown[] = [from, to];
  const clauses = ['created_at >= $1', 'created_at < $2'];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (filters.user_id) add('user_id = ?', filters.user_id);
  if (filters.action) add('action = ?', filters.action);
  if (filters.resource_type) add('resource_type = ?', filters.resource_type);
  if (filters.ip) add('ip = ?', filters.ip);
  if (filters.status) {
    const statusClass = /^([1-5])xx$/i.exec(filters.status);
    if (statusClass) {
      add('status_code >= ?', Number(statusClass[1]) * 100);
      add('status_code < ?', Number(statusClass[1]) * 100 + 100);
    } else {
      add('status_code = ?', Number(filters.status));
    }
  }
  return { sql: clauses.join(' AND '), params };
}
