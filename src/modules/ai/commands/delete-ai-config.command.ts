import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AiConfigRepository } from '../repositories/ai-config.repository';

/** Deletes one of the caller's AI configs (an admin: anyone's), its sealed key with it; anyone else's answers 404. */
export class DeleteAiConfigCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteAiConfigCommand)
export class DeleteAiConfigHandler implements ICommandHandler<DeleteAiConfigCommand> {
  constructor(private readonly configs: AiConfigRepository) {}

  async execute({ actor, id }: DeleteAiConfigCommand): Promise<void> {
    const ownerId = await this.configs.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('AI config');
    // False: a concurrent delete won.
    if (!(await this.configs.deleteOwned(id, ownerId))) throw AppError.notFound('AI config');
  }
}
