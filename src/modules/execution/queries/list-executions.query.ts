import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { ExecutionEntity } from '../entities/execution.entity';
import { ExecutionRepository, ExecutionSearch } from '../repositories/execution.repository';

export interface ExecutionFilters extends ExecutionSearch {
  page: number;
  limit: number;
}

/** Runs, newest first: one user's history, or every run for the admin list. */
export class ListExecutionsQuery extends Query<{ rows: ExecutionEntity[]; pagination: Pagination }> {
  constructor(readonly filters: ExecutionFilters) {
    super();
  }
}

@QueryHandler(ListExecutionsQuery)
export class ListExecutionsHandler implements IQueryHandler<ListExecutionsQuery> {
  constructor(private readonly executions: ExecutionRepository) {}

  async execute({ filters }: ListExecutionsQuery): Promise<{ rows: ExecutionEntity[]; pagination: Pagination }> {
    const { rows, total } = await this.executions.search(filters, filters);
    return { rows, pagination: pagination(total, filters) };
  }
}
