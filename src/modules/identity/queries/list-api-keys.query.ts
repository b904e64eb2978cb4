import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Pagination, pagination } from '../../../common/http/pagination';
import { ApiKeyView, toApiKeyView } from '../api-key.mapper';
import { ApiKeyRepository } from '../repositories/api-key.repository';

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
  constructor(private readonly keys: ApiKeyRepository) {}

  async execute({ userId, page, limit }: ListApiKeysQuery): Promise<{ api_keys: ApiKeyView[]; pagination: Pagination }> {
    const { rows, total } = await this.keys.listUnrevokedKeys(userId, { page, limit });
    return { api_keys: rows.map(toApiKeyView), pagination: pagination(total, { page, limit }) };
  }
}
