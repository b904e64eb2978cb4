import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { ConversationRepository, ConversationRow } from '../repositories/conversation.repository';

/** One user's chat conversations, most recently updated first (an admin's list is their own too). */
export class ListConversationsQuery extends Query<{ rows: ConversationRow[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListConversationsQuery)
export class ListConversationsHandler implements IQueryHandler<ListConversationsQuery> {
  constructor(private readonly conversations: ConversationRepository) {}

  async execute({ userId, page }: ListConversationsQuery): Promise<{ rows: ConversationRow[]; pagination: Pagination }> {
    const { rows, total } = await this.conversations.listRecentFirst(userId, page);
    return { rows, pagination: pagination(total, page) };
  }
}
