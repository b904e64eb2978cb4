import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { AiConfigEntity } from '../entities/ai-config.entity';
import { AiConfigRepository } from '../repositories/ai-config.repository';

/** One user's AI configs, of one provider when given, newest first (an admin's list is their own too). */
export class ListAiConfigsQuery extends Query<{ rows: AiConfigEntity[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly provider: string | undefined,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListAiConfigsQuery)
export class ListAiConfigsHandler implements IQueryHandler<ListAiConfigsQuery> {
  constructor(private readonly configs: AiConfigRepository) {}

  async execute({ userId, provider, page }: ListAiConfigsQuery): Promise<{ rows: AiConfigEntity[]; pagination: Pagination }> {
    const { rows, total } = await this.configs.listNewestFirst(userId, provider, page);
    return { rows, pagination: pagination(total, page) };
  }
}
