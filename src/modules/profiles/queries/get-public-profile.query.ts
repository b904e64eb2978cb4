import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { GetCommunityStatsQuery } from '../../community/queries/get-community-stats.query';
import { GetFollowStatusQuery } from '../../community/queries/get-follow-status.query';
import { GetProfileQuery, ProfileView } from '../../identity/queries/get-profile.query';
import { seesFullProfile } from '../profile-access';

/** What another user sees of a profile: everything public (never the e-mail), or, for a private profile, id, username and avatar only. */
export type PublicProfile =
  | (Omit<ProfileView, 'email' | 'updated_at' | 'status' | 'role'> & {
      posts_count: number;
      followers_count: number;
      following_count: number;
      /** I follow them. */
      following: boolean;
      /** They follow me. */
      followed_by: boolean;
    })
  | (Pick<ProfileView, 'id' | 'username' | 'avatar_url'> & { is_public: false });

/**
 * A user's public page by username (case-insensitive): 404 for no such user.
 * A private profile shows others only its id, username and avatar; its owner
 * and admins see it whole.
 */
export class GetPublicProfileQuery extends Query<PublicProfile> {
  constructor(
    readonly actor: Actor,
    readonly username: string,
  ) {
    super();
  }
}

@QueryHandler(GetPublicProfileQuery)
export class GetPublicProfileHandler implements IQueryHandler<GetPublicProfileQuery> {
  constructor(private readonly queries: QueryBus) {}

  async execute({ actor, username }: GetPublicProfileQuery): Promise<PublicProfile> {
    const profile = await this.queries.execute(new GetProfileQuery({ username }));
    if (!profile) throw AppError.notFound('User');
    if (!seesFullProfile(actor, profile)) return { id: profile.id, username: profile.username, avatar_url: profile.avatar_url, is_public: false };
    const self = profile.id === actor.userId;
    const [stats, status] = await Promise.all([
      this.queries.execute(new GetCommunityStatsQuery(profile.id, !self)),
      self ? { following: false, followed_by: false } : this.queries.execute(new GetFollowStatusQuery(actor, profile.id)),
    ]);
    return {
      id: profile.id,
      username: profile.username,
      avatar_url: profile.avatar_url,
      is_public: profile.is_public,
      name: profile.name,
      bio: profile.bio,
      website: profile.website,
      location: profile.location,
      company: profile.company,
      github: profile.github,
      created_at: profile.created_at,
      posts_count: stats.posts,
      followers_count: stats.followers,
      following_count: stats.following,
      ...status,
    };
  }
}
