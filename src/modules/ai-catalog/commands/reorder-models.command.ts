import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { ModelRepository } from '../repositories/model.repository';

export interface ModelOrderInput {
  id: string;
  sort_order: number;
}

/** Sets the sort_order of several models at once: all of them, or, when any id is unknown (404), none. */
export class ReorderModelsCommand extends Command<{ updated: number }> {
  constructor(readonly items: ModelOrderInput[]) {
    super();
  }
}

@CommandHandler(ReorderModelsCommand)
export class ReorderModelsHandler implements ICommandHandler<ReorderModelsCommand> {
  constructor(private readonly models: ModelRepository) {}

  execute({ items }: ReorderModelsCommand): Promise<{ updated: number }> {
    const ids = items.map((item) => item.id.toLowerCase());
    return this.models.transaction(async (manager) => {
      const found = new Set(await this.models.lockIds(manager, ids));
      const missing = ids.filter((id) => !found.has(id));
      if (missing.length > 0) throw new AppError(ErrorCode.NOT_FOUND, 'Model not found', { ids: missing });
      await this.models.setSortOrders(manager, items.map((item, i) => ({ id: ids[i], sortOrder: item.sort_order })));
      return { updated: items.length };
    });
  }
}
