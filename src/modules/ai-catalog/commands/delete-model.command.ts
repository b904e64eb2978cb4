import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ModelRepository } from '../repositories/model.repository';

/**
 * Retires a model: it stays in the catalog, inactive (is_active=false), so
 * what other contexts recorded about it (configurations, usage and its price)
 * still finds it. Deleting it again changes nothing.
 */
export class DeleteModelCommand extends Command<void> {
  constructor(readonly id: string) {
    super();
  }
}

@CommandHandler(DeleteModelCommand)
export class DeleteModelHandler implements ICommandHandler<DeleteModelCommand> {
  constructor(private readonly models: ModelRepository) {}

  async execute({ id }: DeleteModelCommand): Promise<void> {
    if (!(await this.models.update(id, { isActive: false, updatedAt: new Date() }))) throw AppError.notFound('Model');
  }
}
