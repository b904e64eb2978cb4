import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Pagination, pagination } from '../../../common/http/pagination';
import { UserRepository, UserSearch } from '../repositories/user.repository';
import { toUserView, UserView } from '../user.mapper';

export interface UserFilters extends UserSearch {
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
  constructor(private readonly users: UserRepository) {}

  async execute({ filters }: ListUsersQuery): Promise<{ users: UserView[]; pagination: Pagination }> {
    const { rows, total } = await this.users.search(filters, { page: filters.page, limit: filters.limit });
    return { users: rows.map(toUserView), pagination: pagination(total, filters) };
  }
}
