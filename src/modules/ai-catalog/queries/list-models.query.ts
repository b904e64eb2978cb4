import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { AiModelEntity } from '../entities/ai-model.entity';
import { ModelFilters, ModelRepository } from '../repositories/model.repository';

/** One page of the model catalog, by sort_order then model name. */
export class ListModelsQuery extends Query<{ rows: AiModelEntity[]; pagination: Pagination }> {
  constructor(
    readonly filters: ModelFilters,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListModelsQuery)
export class ListModelsHandler implements IQueryHandler<ListModelsQuery> {
  constructor(private readonly models: ModelRepository) {}

  async execute({ filters, page }: ListModelsQuery): Promise<{ rows: AiModelEntity[]; pagination: Pagination }> {
    const { rows, total } = await this.models.list(filters, page);
    return { rows, pagination: pagination(total, page) };
  }
}
