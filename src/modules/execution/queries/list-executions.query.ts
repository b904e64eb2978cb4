import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { pagination, Pagination } from '../../../common/http/pagination';
import { ExecutionEntity } from '../entities/execution.entity';

export interface ExecutionFilters {
  user_id?: string;
  status?: string;
  language?: string;
  from?: Date;
  to?: Date;
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
  constructor(@InjectRepository(ExecutionEntity) private readonly executions: Repository<ExecutionEntity>) {}

  async execute({ filters }: ListExecutionsQuery): Promise<{ rows: ExecutionEntity[]; pagination: Pagination }> {
    const query = this.executions.createQueryBuilder('e');
    if (filters.user_id) query.andWhere('e.user_id = :userId', { userId: filters.user_id });
    if (filters.status) query.andWhere('e.status = :status', { status: filters.status });
    if (filters.language) query.andWhere('e.language = :language', { language: filters.language });
    if (filters.from) query.andWhere('e.created_at >= :from', { from: filters.from });
    if (filters.to) query.andWhere('e.created_at < :to', { to: filters.to });
    const [rows, total] = await query
      .orderBy('e.created_at', 'DESC')
      .addOrderBy('e.id', 'DESC')
      .skip((filters.page - 1) * filters.limit)
      .take(filters.limit)
      .getManyAndCount();
    return { rows, pagination: pagination(total, filters) };
  }
}
