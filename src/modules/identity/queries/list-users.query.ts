import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Pagination, pagination } from '../../../common/http/pagination';
import { UserEntity } from '../entities/user.entity';
import { toUserView, UserView } from '../user.mapper';

export interface UserFilters {
  search?: string;
  role?: string;
  level?: string;
  status?: string;
  page: number;
  limit: number;
}

export class ListUsersQuery extends Query<{ users: UserView[]; pagination: Pagination }> {
  constructor(readonly filters: UserFilters) {
    super();
  }
}

@QueryHandler(ListUsersQuery)
export class ListUsersHandler implements IQueryHandler<ListUsersQuery> {
  constructor(private readonly dataSource: DataSource) {}

  async execute({ filters }: ListUsersQuery): Promise<{ users: UserView[]; pagination: Pagination }> {
    const query = this.dataSource.getRepository(UserEntity).createQueryBuilder('u');
    if (filters.search) {
      const pattern = `%${filters.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere('(lower(u.username) LIKE :pattern OR lower(u.email) LIKE :pattern)', { pattern });
    }
    if (filters.role) query.andWhere('u.role = :role', { role: filters.role });
    if (filters.level) query.andWhere('u.level = :level', { level: filters.level });
    if (filters.status) query.andWhere('u.status = :status', { status: filters.status });
    const [users, total] = await query
      .orderBy('u.createdAt', 'DESC')
      .addOrderBy('u.id', 'DESC')
      .skip((filters.page - 1) * filters.limit)
      .take(filters.limit)
      .getManyAndCount();
    return { users: users.map(toUserView), pagination: pagination(total, filters) };
  }
}
