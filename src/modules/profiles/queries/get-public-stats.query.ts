import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { GetCommunityStatsQuery } from '../../community/queries/get-community-stats.query';
import { GetProfileQuery } from '../../identity/queries/get-profile.query';
import { CountSnippetsQuery } from '../../library/queries/count-snippets.query';
import { seesFullProfile } from '../profile-access';

/** A user's public figures: what their public posts and snippets count and received, and their follows. */
export interface PublicStats {
  user_id: string;
  posts: number;
  snippets: number;
  followers: number;
  following: number;
  likes_received: number;
  favorites_received: number;
  comments_received: number;
}

/**
 * GET /users/:id/stats: the public side only (private posts and snippets are
 * not counted, even for their owner: this is what others see). A private
 * profile's figures are 403 to others; no such user is 404.
 */
export class GetPublicStatsQuery extends Query<PublicStats> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
  ) {
    super();
  }
}

@QueryHandler(GetPublicStatsQuery)
export class GetPublicStatsHandler implements IQueryHandler<GetPublicStatsQuery> {
  constructor(private readonly queries: QueryBus) {}

  async execute({ actor, userId }: GetPublicStatsQuery): Promise<PublicStats> {
    const profile = await this.queries.execute(new GetProfileQuery({ id: userId }));
    if (!profile) throw AppError.notFound('User');
    if (!seesFullProfile(actor, profile)) throw AppError.forbidden('This profile is private');
    const [community, snippets] = await Promise.all([
      this.queries.execute(new GetCommunityStatsQuery(userId, true)),
      this.queries.execute(new CountSnippetsQuery(userId, true)),
    ]);
    return {
      user_id: userId,
      posts: community.posts,
      snippets,
      followers: community.followers,
      following: community.following,
      likes_received: community.likes_received,
      favorites_received: community.favorites_received,
      comments_received: community.comments_received,
    };
  }
}
