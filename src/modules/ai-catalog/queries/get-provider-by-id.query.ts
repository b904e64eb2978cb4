import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { AiProviderEntity } from '../entities/ai-provider.entity';
import { ProviderRepository } from '../repositories/provider.repository';

/** One provider by id, active or not; 404 when there is none. */
export class GetProviderByIdQuery extends Query<AiProviderEntity> {
  constructor(readonly id: string) {
    super();
  }
}

@QueryHandler(GetProviderByIdQuery)
export class GetProviderByIdHandler implements IQueryHandler<GetProviderByIdQuery> {
  constructor(private readonly providers: ProviderRepository) {}

  async execute({ id }: GetProviderByIdQuery): Promise<AiProviderEntity> {
    const provider = await this.providers.findById(id);
    if (!provider) throw AppError.notFound('Provider');
    return provider;
  }
}
