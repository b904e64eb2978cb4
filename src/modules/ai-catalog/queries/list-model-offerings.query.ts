import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { MODEL_NAME } from '../catalog-names';
import { ProviderHealth } from '../provider-health';
import { ModelRepository } from '../repositories/model.repository';
import { ProviderRepository } from '../repositories/provider.repository';
import { ModelInfo, toModelInfo } from './get-model.query';
import { ProviderInfo, toProviderInfo } from './get-provider.query';

/** One provider's offer of a model, with whether the provider is cooling down after failed calls. */
export interface ModelOffering {
  model: ModelInfo;
  provider: ProviderInfo;
  /** Until when calls should not go to this provider (ProviderHealth); null when they may. */
  cooling_down_until: Date | null;
}

/**
 * Every active provider's active model of this name, in the order calls should
 * try them: the models' sort_order, then the provider key. Empty when no active
 * provider offers an active model of that name.
 */
export class ListModelOfferingsQuery extends Query<ModelOffering[]> {
  constructor(readonly modelName: string) {
    super();
  }
}

@QueryHandler(ListModelOfferingsQuery)
export class ListModelOfferingsHandler implements IQueryHandler<ListModelOfferingsQuery> {
  constructor(
    private readonly models: ModelRepository,
    private readonly providers: ProviderRepository,
    private readonly health: ProviderHealth,
  ) {}

  async execute({ modelName }: ListModelOfferingsQuery): Promise<ModelOffering[]> {
    // A name no model can have is not looked up.
    if (!MODEL_NAME.test(modelName)) return [];
    const models = await this.models.findActiveByName(modelName);
    if (models.length === 0) return [];
    const providers = new Map((await this.providers.findActiveByKeys(models.map((model) => model.provider))).map((row) => [row.providerKey, row]));
    const now = Date.now();
    return models.flatMap((model) => {
      const provider = providers.get(model.provider);
      if (!provider) return [];
      return [{ model: toModelInfo(model), provider: toProviderInfo(provider), cooling_down_until: this.health.coolingDownUntil(provider.providerKey, now) }];
    });
  }
}
