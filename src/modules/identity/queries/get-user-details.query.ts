import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { UserEntity } from '../entities/user.entity';
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
  constructor(private readonly dataSource: DataSource) {}

  async execute({ userId }: GetUserDetailsQuery): Promise<UserDetails> {
    const user = await this.dataSource.getRepository(UserEntity).findOneBy({ id: userId });
    if (!user) throw AppError.notFound('User');
    const [counts] = (await this.dataSource.query(
      `SELECT
         (SELECT count(*)::int FROM user_sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()) AS active_sessions,
         (SELECT count(*)::int FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL) AS api_keys`,
      [userId],
    )) as Array<{ active_sessions: number; api_keys: number }>;
    const lockedUntil = user.lockedUntil && user.lockedUntil.getTime() > Date.now() ? user.lockedUntil.toISOString() : null;
    return { ...toUserView(user), locked_until: lockedUntil, counts };
  }
}
