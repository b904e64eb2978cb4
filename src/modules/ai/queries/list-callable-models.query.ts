import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { ListModelsQuery } from '../../ai-catalog/queries/list-models.query';
import { AiCaller, AiLimits } from '../ai-limits';

export interface CallableModel {
  model_name: string;
  provider: string;
  created_at: Date;
}

/** Catalog pages read at a time. */
const PAGE = 100;

/**
 * The active chat models a caller may call (GET /v1/models): the catalog's,
 * less those the caller's API key's allow-list leaves out. A model several
 * providers offer is listed once per provider, as the catalog lists it.
 */
export class ListCallableModelsQuery extends Query<CallableModel[]> {
  constructor(readonly caller: AiCaller) {
    super();
  }
}

@QueryHandler(ListCallableModelsQuery)
export class ListCallableModelsHandler implements IQueryHandler<ListCallableModelsQuery> {
  constructor(
    private readonly queries: QueryBus,
    private readonly limits: AiLimits,
  ) {}

  async execute({ caller }: ListCallableModelsQuery): Promise<CallableModel[]> {
    const allowed = await this.limits.allowedModels(caller);
    const all: CallableModel[] = [];
    for (let page = 1; ; page++) {
      const { rows, pagination } = await this.queries.execute(new ListModelsQuery({ activeOnly: true, type: 'chat' }, { page, limit: PAGE }));
      for (const row of rows) {
        if (allowed === null || allowed.includes(row.modelName)) all.push({ model_name: row.modelName, provider: row.provider, created_at: row.createdAt });
      }
      if (page >= pagination.pages) break;
    }
    return all;
  }
}
