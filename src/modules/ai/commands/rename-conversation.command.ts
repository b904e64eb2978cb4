import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ConversationRepository, ConversationRow } from '../repositories/conversation.repository';

/** Renames one of the caller's conversations (an admin: anyone's). */
export class RenameConversationCommand extends Command<ConversationRow> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly title: string,
  ) {
    super();
  }
}

@CommandHandler(RenameConversationCommand)
export class RenameConversationHandler implements ICommandHandler<RenameConversationCommand> {
  constructor(private readonly conversations: ConversationRepository) {}

  async execute({ actor, id, title }: RenameConversationCommand): Promise<ConversationRow> {
    const ownerId = await this.conversations.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('Conversation');
    const renamed = await this.conversations.renameOwned(id, ownerId, title, new Date());
    if (!renamed) throw AppError.notFound('Conversation');
    return renamed;
  }
}
