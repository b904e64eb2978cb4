import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { UserEnvironmentEntity } from '../entities/user-environment.entity';
import { EnvironmentRepository } from '../repositories/environment.repository';

/** Environments, newest first: one user's (userId), or everyone's (null, for admins). */
export class ListUserEnvironmentsQuery extends Query<{ rows: UserEnvironmentEntity[]; pagination: Pagination }> {
  constructor(
    readonly userId: string | null,
    readonly page: number,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ListUserEnvironmentsQuery)
export class ListUserEnvironmentsHandler implements IQueryHandler<ListUserEnvironmentsQuery> {
  constructor(private readonly environments: EnvironmentRepository) {}

  async execute({ userId, page, limit }: ListUserEnvironmentsQuery): Promise<{ rows: UserEnvironmentEntity[]; pagination: Pagination }> {
    const { rows, total } = await this.environments.listNewestFirst(userId, { page, limit });
    return { rows, pagination: pagination(total, { page, limit }) };
  }
}
