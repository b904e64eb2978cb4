import type { AiModelEntity } from './entities/ai-model.entity';
import type { AiProviderEntity } from './entities/ai-provider.entity';
import type { ModelResponse } from './http/dto/model.dto';
import type { ProviderResponse } from './http/dto/provider.dto';
import type { ProviderHealthView } from './provider-health';

/** The wire shape of a provider: a whitelist, so its sealed key never leaves; only whether there is one, and its mask. */
export function toProviderResponse(row: AiProviderEntity, health: ProviderHealthView): ProviderResponse {
  return {
    id: row.id,
    provider_key: row.providerKey,
    display_name: row.displayName,
    default_base_url: row.defaultBaseUrl,
    api_style: row.apiStyle,
    has_platform_key: row.apiKeySealed !== null,
    api_key_masked: row.apiKeySealed !== null ? row.apiKeyMask : null,
    is_active: row.isActive,
    sort_order: row.sortOrder,
    health,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toModelResponse(row: AiModelEntity): ModelResponse {
  return {
    id: row.id,
    model_name: row.modelName,
    display_name: row.displayName,
    provider: row.provider,
    model_type: row.modelType,
    max_tokens: row.maxTokens,
    supports_streaming: row.supportsStreaming,
    supports_function_calling: row.supportsFunctionCalling,
    supports_vision: row.supportsVision,
    input_price_per_1k: row.inputPricePer1k,
    output_price_per_1k: row.outputPricePer1k,
    description: row.description,
    is_active: row.isActive,
    sort_order: row.sortOrder,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
