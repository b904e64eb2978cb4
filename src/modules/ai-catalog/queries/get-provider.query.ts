import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { PROVIDER_KEY } from '../catalog-names';
import type { AiProviderEntity } from '../entities/ai-provider.entity';
import { ProviderRepository } from '../repositories/provider.repository';

/** What other contexts learn about a provider: where and how to call it, never its key. */
export interface ProviderInfo {
  id: string;
  provider_key: string;
  display_name: string;
  default_base_url: string | null;
  api_style: 'openai' | 'anthropic';
  is_active: boolean;
}

/**
 * A provider by its key (`openai`, `ollama`, …), active or not, or null when
 * there is none: what an inactive provider means is the caller's to decide.
 */
export class GetProviderQuery extends Query<ProviderInfo | null> {
  constructor(readonly providerKey: string) {
    super();
  }
}

@QueryHandler(GetProviderQuery)
export class GetProviderHandler implements IQueryHandler<GetProviderQuery> {
  constructor(private readonly providers: ProviderRepository) {}

  async execute({ providerKey }: GetProviderQuery): Promise<ProviderInfo | null> {
    // A key no provider can have is not looked up.
    if (!PROVIDER_KEY.test(providerKey)) return null;
    const provider = await this.providers.findByKey(providerKey);
    if (!provider) return null;
    return toProviderInfo(provider);
  }
}

export function toProviderInfo(provider: AiProviderEntity): ProviderInfo {
  return {
    id: provider.id,
    provider_key: provider.providerKey,
    display_name: provider.displayName,
    default_base_url: provider.defaultBaseUrl,
    api_style: provider.apiStyle,
    is_active: provider.isActive,
  };
}
