import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { FollowRepository } from '../repositories/follow.repository';
import { PostRepository } from '../repositories/post.repository';

/** A user's community figures; with publicOnly, what their public posts received. */
export interface CommunityStats {
  posts: number;
  followers: number;
  following: number;
  likes_received: number;
  favorites_received: number;
  comments_received: number;
}

/** For the profile and stats pages (the profiles context): counters and indexed sums, no rows loaded. */
export class GetCommunityStatsQuery extends Query<CommunityStats> {
  constructor(
    readonly userId: string,
    readonly publicOnly: boolean,
  ) {
    super();
  }
}

@QueryHandler(GetCommunityStatsQuery)
export class GetCommunityStatsHandler implements IQueryHandler<GetCommunityStatsQuery> {
  constructor(
    private readonly posts: PostRepository,
    private readonly follows: FollowRepository,
  ) {}

  async execute({ userId, publicOnly }: GetCommunityStatsQuery): Promise<CommunityStats> {
    const [posts, follows] = await Promise.all([this.posts.authorStats(userId, publicOnly), this.follows.countsOf(userId)]);
    return {
      posts: posts.posts,
      followers: follows.followers,
      following: follows.following,
      likes_received: posts.likes,
      favorites_received: posts.favorites,
      comments_received: posts.comments,
    };
  }
}
