import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { AiModelEntity, ModelType } from '../entities/ai-model.entity';
import { isDuplicateModel, isUnknownProvider, ModelRepository } from '../repositories/model.repository';
import { ProviderRepository } from '../repositories/provider.repository';

export interface ModelInput {
  model_name: string;
  display_name: string;
  /** The provider's provider_key. */
  provider: string;
  model_type?: ModelType;
  max_tokens: number;
  supports_streaming?: boolean;
  supports_function_calling?: boolean;
  supports_vision?: boolean;
  input_price_per_1k?: number;
  output_price_per_1k?: number;
  description?: string;
  is_active?: boolean;
  sort_order?: number;
}

/** Adds a model to a provider's; its provider must exist (400) and the name be new to it (409). */
export class CreateModelCommand extends Command<AiModelEntity> {
  constructor(readonly input: ModelInput) {
    super();
  }
}

@CommandHandler(CreateModelCommand)
export class CreateModelHandler implements ICommandHandler<CreateModelCommand> {
  constructor(
    private readonly models: ModelRepository,
    private readonly providers: ProviderRepository,
  ) {}

  async execute({ input }: CreateModelCommand): Promise<AiModelEntity> {
    await checkProviderExists(this.providers, input.provider);
    const now = new Date();
    const row: AiModelEntity = {
      id: uuidv7(),
      provider: input.provider,
      modelName: input.model_name,
      displayName: input.display_name,
      modelType: input.model_type ?? 'chat',
      maxTokens: input.max_tokens,
      supportsStreaming: input.supports_streaming ?? true,
      supportsFunctionCalling: input.supports_function_calling ?? false,
      supportsVision: input.supports_vision ?? false,
      inputPricePer1k: input.input_price_per_1k ?? 0,
      outputPricePer1k: input.output_price_per_1k ?? 0,
      description: input.description ?? '',
      isActive: input.is_active ?? true,
      sortOrder: input.sort_order ?? 0,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.models.insert(row);
    } catch (error) {
      throw modelWriteError(error, row.provider, row.modelName);
    }
    return row;
  }
}

/** 400 on the field `provider`, as the other input checks answer, when no provider has this key. */
export async function checkProviderExists(providers: ProviderRepository, providerKey: string): Promise<void> {
  if (!(await providers.existsByKey(providerKey))) throw unknownProvider(providerKey);
}

/** What a failed insert or update of a model means for the caller; other errors as they are. */
export function modelWriteError(error: unknown, provider: string, modelName: string): unknown {
  if (isDuplicateModel(error)) return AppError.conflict(`The provider ${provider} already has a model named ${modelName}`, { field: 'model_name' });
  // The provider was checked; only a provider added and removed meanwhile by hand in the database gets here.
  if (isUnknownProvider(error)) return unknownProvider(provider);
  return error;
}

function unknownProvider(providerKey: string): AppError {
  return new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', {
    fields: { provider: [`provider must be the provider_key of an existing provider; there is no ${providerKey}`] },
  });
}
