import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { UserRepository } from '../repositories/user.repository';
import { toUserView, UserView } from '../user.mapper';

export interface UserDetails extends UserView {
  locked_until: string | null;
  counts: { active_sessions: number; api_keys: number };
}

/** A user with what an admin needs besides the profile: lock state and counts. */
export class GetUserDetailsQuery extends Query<UserDetails> {
  constructor(readonly userId: string) {
    super();
  }
}

@QueryHandler(GetUserDetailsQuery)
export class GetUserDetailsHandler implements IQueryHandler<GetUserDetailsQuery> {
  constructor(private readonly users: UserRepository) {}

  async execute({ userId }: GetUserDetailsQuery): Promise<UserDetails> {
    const user = await this.users.findById(userId);
    if (!user) throw AppError.notFound('User');
    const counts = await this.users.countSessionsAndKeys(userId);
    const lockedUntil = user.lockedUntil && user.lockedUntil.getTime() > Date.now() ? user.lockedUntil.toISOString() : null;
    return { ...toUserView(user), locked_until: lockedUntil, counts };
  }
}
