import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AiProviderEntity } from '../entities/ai-provider.entity';
import { ProviderRepository } from '../repositories/provider.repository';

/** Every provider, active or not (is_active says which), by sort_order. */
export class ListProvidersQuery extends Query<AiProviderEntity[]> {}

@QueryHandler(ListProvidersQuery)
export class ListProvidersHandler implements IQueryHandler<ListProvidersQuery> {
  constructor(private readonly providers: ProviderRepository) {}

  execute(): Promise<AiProviderEntity[]> {
    return this.providers.listInOrder();
  }
}
