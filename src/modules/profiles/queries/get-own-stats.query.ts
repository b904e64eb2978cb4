import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { CommunityStats, GetCommunityStatsQuery } from '../../community/queries/get-community-stats.query';
import { ExecutionStats, GetExecutionStatsQuery } from '../../execution/queries/get-execution-stats.query';
import { CountSnippetsQuery } from '../../library/queries/count-snippets.query';

/** Everything the caller's own statistics pages show; each context computes its part with indexed aggregates. */
export interface OwnStats {
  executions: ExecutionStats;
  snippets: number;
  public_snippets: number;
  community: CommunityStats;
}

/** The caller's own figures (GET /user-stats, /profile/stats, /profile/enhanced-stats), private posts and snippets included. */
export class GetOwnStatsQuery extends Query<OwnStats> {
  constructor(readonly userId: string) {
    super();
  }
}

@QueryHandler(GetOwnStatsQuery)
export class GetOwnStatsHandler implements IQueryHandler<GetOwnStatsQuery> {
  constructor(private readonly queries: QueryBus) {}

  async execute({ userId }: GetOwnStatsQuery): Promise<OwnStats> {
    const [executions, snippets, publicSnippets, community] = await Promise.all([
      this.queries.execute(new GetExecutionStatsQuery(userId, 30)),
      this.queries.execute(new CountSnippetsQuery(userId, false)),
      this.queries.execute(new CountSnippetsQuery(userId, true)),
      this.queries.execute(new GetCommunityStatsQuery(userId, false)),
    ]);
    return { executions, snippets, public_snippets: publicSnippets, community };
  }
}
