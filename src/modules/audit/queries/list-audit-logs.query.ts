import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Pagination, pagination } from '../../../common/http/pagination';
import { AuditLogView, toAuditLogView } from '../audit-log.view';
import { AuditLogRepository, AuditLogSearch } from '../repositories/audit-log.repository';

/** An entry as the query answers it (for the contexts that ask it). */
export type { AuditLogView };

export interface AuditLogFilters extends AuditLogSearch {
  page: number;
  limit: number;
}

export class ListAuditLogsQuery extends Query<{ logs: AuditLogView[]; pagination: Pagination }> {
  constructor(readonly filters: AuditLogFilters) {
    super();
  }
}

@QueryHandler(ListAuditLogsQuery)
export class ListAuditLogsHandler implements IQueryHandler<ListAuditLogsQuery> {
  constructor(private readonly auditLogs: AuditLogRepository) {}

  async execute({ filters }: ListAuditLogsQuery): Promise<{ logs: AuditLogView[]; pagination: Pagination }> {
    const { rows, total } = await this.auditLogs.search(filters, { page: filters.page, limit: filters.limit });
    return { logs: rows.map(toAuditLogView), pagination: pagination(total, filters) };
  }
}
