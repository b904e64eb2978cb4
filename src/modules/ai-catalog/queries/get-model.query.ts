import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { MODEL_NAME, PROVIDER_KEY } from '../catalog-names';
import type { AiModelEntity } from '../entities/ai-model.entity';
import { ModelRepository } from '../repositories/model.repository';

/** What other contexts learn about a model: what it can do, how much context it takes, and its prices (USD per 1,000 tokens). */
export interface ModelInfo {
  id: string;
  model_name: string;
  display_name: string;
  /** The provider's provider_key. */
  provider: string;
  model_type: 'chat' | 'completion' | 'embedding';
  /** The model's context size, in tokens. */
  max_tokens: number;
  supports_streaming: boolean;
  supports_function_calling: boolean;
  supports_vision: boolean;
  input_price_per_1k: number;
  output_price_per_1k: number;
  description: string;
  is_active: boolean;
}

/**
 * A model by name, of the given provider (a provider_key) or, without one, of
 * any: then an active one before an inactive one, and the first by sort_order.
 * Null when there is none. Active or not: the caller decides what an
 * inactive model means for it.
 */
export class GetModelQuery extends Query<ModelInfo | null> {
  constructor(
    readonly modelName: string,
    readonly provider?: string,
  ) {
    super();
  }
}

@QueryHandler(GetModelQuery)
export class GetModelHandler implements IQueryHandler<GetModelQuery> {
  constructor(private readonly models: ModelRepository) {}

  async execute({ modelName, provider }: GetModelQuery): Promise<ModelInfo | null> {
    // Names no model can have are not looked up.
    if (!MODEL_NAME.test(modelName) || (provider !== undefined && !PROVIDER_KEY.test(provider))) return null;
    const model = await this.models.findByName(modelName, provider);
    if (!model) return null;
    return toModelInfo(model);
  }
}

export function toModelInfo(model: AiModelEntity): ModelInfo {
  return {
    id: model.id,
    model_name: model.modelName,
    display_name: model.displayName,
    provider: model.provider,
    model_type: model.modelType,
    max_tokens: model.maxTokens,
    supports_streaming: model.supportsStreaming,
    supports_function_calling: model.supportsFunctionCalling,
    supports_vision: model.supportsVision,
    input_price_per_1k: model.inputPricePer1k,
    output_price_per_1k: model.outputPricePer1k,
    description: model.description,
    is_active: model.isActive,
  };
}
