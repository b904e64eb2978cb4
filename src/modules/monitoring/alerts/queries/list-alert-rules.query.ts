import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../../common/http/pagination';
import type { AlertRuleRow } from '../alert-rule';
import { AlertRuleRepository } from '../repositories/alert-rule.repository';

/** A page of the user's own alert rules, newest first. */
export class ListAlertRulesQuery extends Query<{ rows: AlertRuleRow[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListAlertRulesQuery)
export class ListAlertRulesHandler implements IQueryHandler<ListAlertRulesQuery> {
  constructor(private readonly rules: AlertRuleRepository) {}

  async execute({ userId, page }: ListAlertRulesQuery): Promise<{ rows: AlertRuleRow[]; pagination: Pagination }> {
    const { rows, total } = await this.rules.listNewestFirst(userId, page);
    return { rows, pagination: pagination(total, page) };
  }
}
