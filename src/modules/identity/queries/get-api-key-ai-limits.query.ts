import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { ApiKeyRepository } from '../repositories/api-key.repository';

/** What an API key's owner allows it on AI calls. */
export interface ApiKeyAiLimits {
  /** Tokens (prompt + completion) per UTC month; null: no budget of its own. */
  ai_token_budget: number | null;
  /** The model names it may call; null: every model. */
  ai_models: string[] | null;
}

/** An API key's AI limits, or null when there is no such key (a key deleted meanwhile). */
export class GetApiKeyAiLimitsQuery extends Query<ApiKeyAiLimits | null> {
  constructor(readonly apiKeyId: string) {
    super();
  }
}

@QueryHandler(GetApiKeyAiLimitsQuery)
export class GetApiKeyAiLimitsHandler implements IQueryHandler<GetApiKeyAiLimitsQuery> {
  constructor(private readonly keys: ApiKeyRepository) {}

  async execute({ apiKeyId }: GetApiKeyAiLimitsQuery): Promise<ApiKeyAiLimits | null> {
    const key = await this.keys.findById(apiKeyId);
    return key ? { ai_token_budget: key.aiTokenBudget, ai_models: key.aiModels } : null;
  }
}
