import type { AiConfigEntity } from './entities/ai-config.entity';
import type { AiConfigResponse } from './http/dto/ai-config.dto';

/** The wire shape of an AI config: a whitelist, so neither the sealed key nor the owner ever leaves. */
export function toAiConfigResponse(row: AiConfigEntity): AiConfigResponse {
  return {
    id: row.id,
    name: row.name,
    provider: row.provider,
    base_url: row.baseUrl,
    api_key_masked: row.apiKeyMasked,
    model: row.model,
    temperature: row.temperature,
    max_tokens: row.maxTokens,
    is_active: row.isActive,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
