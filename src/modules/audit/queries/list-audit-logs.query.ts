import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Pagination, pagination } from '../../../common/http/pagination';
import { AuditLogView, periodOf, toAuditLogView } from '../audit-log.view';

export interface AuditLogFilters {
  user_id?: string;
  action?: string;
  resource_type?: string;
  /** An exact status (404) or a class ('4xx'). */
  status?: string;
  ip?: string;
  from?: Date;
  to?: Date;
  page: number;
  limit: number;
}

export class ListAuditLogsQuery extends Query<{ logs: AuditLogView[]; pagination: Pagination }> {
  constructor(readonly filters: AuditLogFilters) {
    super();
  }
}

/** Filters always include a created_at range, so PostgreSQL prunes other months' partitions. */
export function auditWhere(filters: Omit<AuditLogFilters, 'page' | 'limit'>): { sql: string; params: unknown[] } {
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

@QueryHandler(ListAuditLogsQuery)
export class ListAuditLogsHandler implements IQueryHandler<ListAuditLogsQuery> {
  constructor(private readonly dataSource: DataSource) {}

  async execute({ filters }: ListAuditLogsQuery): Promise<{ logs: AuditLogView[]; pagination: Pagination }> {
    const where = auditWhere(filters);
    const offset = (filters.page - 1) * filters.limit;
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT * FROM audit_logs WHERE ${where.sql} ORDER BY created_at DESC, id DESC LIMIT ${filters.limit} OFFSET ${offset}`,
        where.params,
      ) as Promise<Array<Record<string, unknown>>>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM audit_logs WHERE ${where.sql}`, where.params) as Promise<Array<{ total: number }>>,
    ]);
    return { logs: rows.map(toAuditLogView), pagination: pagination(total, filters) };
  }
}
