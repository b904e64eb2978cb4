import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { AiModelEntity } from '../entities/ai-model.entity';
import { ModelRepository } from '../repositories/model.repository';

/** Flips a model between active and inactive. */
export class ToggleModelCommand extends Command<AiModelEntity> {
  constructor(readonly id: string) {
    super();
  }
}

@CommandHandler(ToggleModelCommand)
export class ToggleModelHandler implements ICommandHandler<ToggleModelCommand> {
  constructor(private readonly models: ModelRepository) {}

  execute({ id }: ToggleModelCommand): Promise<AiModelEntity> {
    // Locked while it flips: two toggles at once flip it twice, never the same state twice.
    return this.models.transaction(async (manager) => {
      const model = await this.models.lockForUpdate(manager, id);
      if (!model) throw AppError.notFound('Model');
      model.isActive = !model.isActive;
      model.updatedAt = new Date();
      return this.models.save(manager, model);
    });
  }
}
