import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { Authors } from '../authors';
import { FollowRepository } from '../repositories/follow.repository';

/** Whether the caller follows a user and whether that user follows the caller (both false for oneself). */
export class GetFollowStatusQuery extends Query<{ following: boolean; followed_by: boolean }> {
  constructor(
    readonly actor: Actor,
    readonly userId: string,
  ) {
    super();
  }
}

@QueryHandler(GetFollowStatusQuery)
export class GetFollowStatusHandler implements IQueryHandler<GetFollowStatusQuery> {
  constructor(
    private readonly follows: FollowRepository,
    private readonly authors: Authors,
  ) {}

  async execute({ actor, userId }: GetFollowStatusQuery): Promise<{ following: boolean; followed_by: boolean }> {
    if (!(await this.authors.cardsOf([userId])).has(userId)) throw AppError.notFound('User');
    const { following, followedBy } = await this.follows.between(actor.userId, userId);
    return { following, followed_by: followedBy };
  }
}
