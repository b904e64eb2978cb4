import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { ConversationRepository } from '../repositories/conversation.repository';
import { UsageAggregates, UsageRepository } from '../repositories/usage.repository';

export interface UsageSummary extends UsageAggregates {
  conversations: number;
  messages: number;
}

/** One user's AI usage: totals, per model, per UTC day of the last 30, and how many conversations and messages they keep. */
export class GetAiUsageQuery extends Query<UsageSummary> {
  constructor(readonly userId: string) {
    super();
  }
}

@QueryHandler(GetAiUsageQuery)
export class GetAiUsageHandler implements IQueryHandler<GetAiUsageQuery> {
  constructor(
    private readonly usage: UsageRepository,
    private readonly conversations: ConversationRepository,
  ) {}

  async execute({ userId }: GetAiUsageQuery): Promise<UsageSummary> {
    const [aggregates, counts] = await Promise.all([this.usage.aggregatesOf(userId), this.conversations.countsOf(userId)]);
    return { ...aggregates, ...counts };
  }
}
