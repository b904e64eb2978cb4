import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { AiModelEntity } from '../entities/ai-model.entity';
import { ModelRepository } from '../repositories/model.repository';
import { ProviderRepository } from '../repositories/provider.repository';
import { checkProviderExists, ModelInput, modelWriteError } from './create-model.command';

/** The fields given change. */
export type ModelChanges = Partial<ModelInput>;

/** Changes a model; a new provider must exist (400), and the name stays unique per provider (409). */
export class UpdateModelCommand extends Command<AiModelEntity> {
  constructor(
    readonly id: string,
    readonly changes: ModelChanges,
  ) {
    super();
  }
}

@CommandHandler(UpdateModelCommand)
export class UpdateModelHandler implements ICommandHandler<UpdateModelCommand> {
  constructor(
    private readonly models: ModelRepository,
    private readonly providers: ProviderRepository,
  ) {}

  async execute({ id, changes }: UpdateModelCommand): Promise<AiModelEntity> {
    const current = await this.models.findById(id);
    if (!current) throw AppError.notFound('Model');
    if (changes.provider !== undefined) await checkProviderExists(this.providers, changes.provider);
    const set: Partial<AiModelEntity> = { updatedAt: new Date() };
    if (changes.provider !== undefined) set.provider = changes.provider;
    if (changes.model_name !== undefined) set.modelName = changes.model_name;
    if (changes.display_name !== undefined) set.displayName = changes.display_name;
    if (changes.model_type !== undefined) set.modelType = changes.model_type;
    if (changes.max_tokens !== undefined) set.maxTokens = changes.max_tokens;
    if (changes.supports_streaming !== undefined) set.supportsStreaming = changes.supports_streaming;
    if (changes.supports_function_calling !== undefined) set.supportsFunctionCalling = changes.supports_function_calling;
    if (changes.supports_vision !== undefined) set.supportsVision = changes.supports_vision;
    if (changes.input_price_per_1k !== undefined) set.inputPricePer1k = changes.input_price_per_1k;
    if (changes.output_price_per_1k !== undefined) set.outputPricePer1k = changes.output_price_per_1k;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.is_active !== undefined) set.isActive = changes.is_active;
    if (changes.sort_order !== undefined) set.sortOrder = changes.sort_order;
    let changed: boolean;
    try {
      changed = await this.models.update(id, set);
    } catch (error) {
      throw modelWriteError(error, set.provider ?? current.provider, set.modelName ?? current.modelName);
    }
    // Models are never deleted; false only if one was removed by hand meanwhile.
    if (!changed) throw AppError.notFound('Model');
    const updated = await this.models.findById(id);
    if (!updated) throw AppError.notFound('Model');
    return updated;
  }
}
