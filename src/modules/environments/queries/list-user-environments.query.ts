import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { pagination, Pagination } from '../../../common/http/pagination';
import { UserEnvironmentEntity } from '../entities/user-environment.entity';

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
  constructor(@InjectRepository(UserEnvironmentEntity) private readonly environments: Repository<UserEnvironmentEntity>) {}

  async execute({ userId, page, limit }: ListUserEnvironmentsQuery): Promise<{ rows: UserEnvironmentEntity[]; pagination: Pagination }> {
    const [rows, total] = await this.environments.findAndCount({
      where: userId ? { userId } : {},
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page - 1) * limit,
      take: limit,
    });
    return { rows, pagination: pagination(total, { page, limit }) };
  }
}
