import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource, IsNull } from 'typeorm';
import { Pagination, pagination } from '../../../common/http/pagination';
import { ApiKeyView, toApiKeyView } from '../api-key.mapper';
import { ApiKeyEntity } from '../entities/api-key.entity';

/** The caller's keys, without their values (those are shown once, at creation). */
export class ListApiKeysQuery extends Query<{ api_keys: ApiKeyView[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly page: number,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ListApiKeysQuery)
export class ListApiKeysHandler implements IQueryHandler<ListApiKeysQuery> {
  constructor(private readonly dataSource: DataSource) {}

  async execute({ userId, page, limit }: ListApiKeysQuery): Promise<{ api_keys: ApiKeyView[]; pagination: Pagination }> {
    const [keys, total] = await this.dataSource.getRepository(ApiKeyEntity).findAndCount({
      where: { userId, revokedAt: IsNull() },
      order: { createdAt: 'DESC' },
      skip: (page - 1) * limit,
      take: limit,
    });
    return { api_keys: keys.map(toApiKeyView), pagination: pagination(total, { page, limit }) };
  }
}
