import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../../common/http/pagination';
import type { AlertRow } from '../alert-rule';
import { AlertFilters, AlertRepository } from '../repositories/alert.repository';

/** A page of the user's own alerts (of their rules), open and resolved, newest fired first; filtered by status and server. */
export class ListAlertsQuery extends Query<{ rows: AlertRow[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly filters: AlertFilters,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListAlertsQuery)
export class ListAlertsHandler implements IQueryHandler<ListAlertsQuery> {
  constructor(private readonly alerts: AlertRepository) {}

  async execute({ userId, filters, page }: ListAlertsQuery): Promise<{ rows: AlertRow[]; pagination: Pagination }> {
    const { rows, total } = await this.alerts.list(userId, filters, page);
    return { rows, pagination: pagination(total, page) };
  }
}
