import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { ConversationRepository, UsageSummary } from '../repositories/conversation.repository';

/** One user's AI usage: totals, per model, per UTC day of the last 30, and how many conversations and messages they keep. */
export class GetAiUsageQuery extends Query<UsageSummary> {
  constructor(readonly userId: string) {
    super();
  }
}

@QueryHandler(GetAiUsageQuery)
export class GetAiUsageHandler implements IQueryHandler<GetAiUsageQuery> {
  constructor(private readonly conversations: ConversationRepository) {}

  execute({ userId }: GetAiUsageQuery): Promise<UsageSummary> {
    return this.conversations.usageOf(userId);
  }
}
