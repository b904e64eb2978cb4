import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AuditLogRepository } from '../repositories/audit-log.repository';

/** The distinct actions or resource types in the log, optionally of one user. */
export class ListAuditValuesQuery extends Query<string[]> {
  constructor(
    readonly column: 'action' | 'resource_type',
    readonly userId?: string,
  ) {
    super();
  }
}

@QueryHandler(ListAuditValuesQuery)
export class ListAuditValuesHandler implements IQueryHandler<ListAuditValuesQuery> {
  constructor(private readonly auditLogs: AuditLogRepository) {}

  execute({ column, userId }: ListAuditValuesQuery): Promise<string[]> {
    if (userId) return this.auditLogs.distinctValuesOfUser(column, userId);
    return column === 'action' ? this.auditLogs.distinctActions() : this.auditLogs.distinctResourceTypes();
  }
}
