import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ConversationRepository } from '../repositories/conversation.repository';

/** Deletes one of the caller's conversations (an admin: anyone's) with its messages; its usage stays, without the conversation. */
export class DeleteConversationCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteConversationCommand)
export class DeleteConversationHandler implements ICommandHandler<DeleteConversationCommand> {
  constructor(private readonly conversations: ConversationRepository) {}

  async execute({ actor, id }: DeleteConversationCommand): Promise<void> {
    const ownerId = await this.conversations.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('Conversation');
    if (!(await this.conversations.deleteOwned(id, ownerId))) throw AppError.notFound('Conversation');
  }
}
