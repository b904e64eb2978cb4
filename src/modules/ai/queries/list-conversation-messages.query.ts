import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { pagination, Pagination } from '../../../common/http/pagination';
import { ConversationRepository, MessageRow } from '../repositories/conversation.repository';

/** The messages of one of the caller's conversations (an admin: anyone's), oldest first. */
export class ListConversationMessagesQuery extends Query<{ rows: MessageRow[]; pagination: Pagination }> {
  constructor(
    readonly actor: Actor,
    readonly conversationId: string,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListConversationMessagesQuery)
export class ListConversationMessagesHandler implements IQueryHandler<ListConversationMessagesQuery> {
  constructor(private readonly conversations: ConversationRepository) {}

  async execute({ actor, conversationId, page }: ListConversationMessagesQuery): Promise<{ rows: MessageRow[]; pagination: Pagination }> {
    const ownerId = await this.conversations.ownerOf(conversationId);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('Conversation');
    const { rows, total } = await this.conversations.listMessages(conversationId, page);
    return { rows, pagination: pagination(total, page) };
  }
}
