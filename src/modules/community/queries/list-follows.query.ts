import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { pagination, Pagination } from '../../../common/http/pagination';
import { Authors } from '../authors';
import { FollowRepository } from '../repositories/follow.repository';
import type { Page } from '../repositories/post.repository';
import { assertProfileOpen } from './profile-access';

/** A user in a followers or following list; `name` only if their profile is public (or mine). */
export interface FollowEntry {
  id: string;
  username: string;
  name: string | null;
  avatar_url: string | null;
  followed_at: Date;
  /** Whether the caller follows this user. */
  following: boolean;
}

/**
 * Who follows a user (`followers`) or whom they follow (`following`), most
 * recent first. A private profile's lists are its owner's (and admins') only: 403.
 */
export class ListFollowsQuery extends Query<{ users: FollowEntry[]; pagination: Pagination }> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
    readonly side: 'followers' | 'following',
    readonly page: Page,
  ) {
    super();
  }
}

@QueryHandler(ListFollowsQuery)
export class ListFollowsHandler implements IQueryHandler<ListFollowsQuery> {
  constructor(
    private readonly follows: FollowRepository,
    private readonly authors: Authors,
  ) {}

  async execute({ actor, userId, side, page }: ListFollowsQuery): Promise<{ users: FollowEntry[]; pagination: Pagination }> {
    await assertProfileOpen(this.authors, actor, userId);
    const [rows, counts] = await Promise.all([
      side === 'followers' ? this.follows.followersOf(userId, page) : this.follows.followingOf(userId, page),
      this.follows.countsOf(userId),
    ]);
    const ids = rows.map((row) => row.userId);
    const [cards, followed] = await Promise.all([this.authors.cardsOf(ids), this.follows.followedAmong(actor.userId, ids)]);
    const users: FollowEntry[] = [];
    for (const row of rows) {
      const card = cards.get(row.userId);
      if (!card) continue; // a deleted account
      const open = card.is_public || card.id === actor.userId || actor.admin;
      users.push({ id: card.id, username: card.username, name: open ? card.name : null, avatar_url: card.avatar_url, followed_at: row.followedAt, following: followed.has(card.id) });
    }
    return { users, pagination: pagination(side === 'followers' ? counts.followers : counts.following, page) };
  }
}
