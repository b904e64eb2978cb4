import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { ProfileKey, UserRepository } from '../repositories/user.repository';
import { toProfileView, ProfileView } from '../user.mapper';

export type { ProfileKey } from '../repositories/user.repository';
export type { ProfileView } from '../user.mapper';

/**
 * A user's profile by id or by username (case-insensitive), for GET /profile
 * and for other contexts; null when there is no such user or the user is
 * deleted. It is not a visibility check: `is_public`, `status` and `role` are
 * there for the caller to decide what someone else may see.
 */
export class GetProfileQuery extends Query<ProfileView | null> {
  constructor(readonly by: ProfileKey) {
    super();
  }
}

@QueryHandler(GetProfileQuery)
export class GetProfileHandler implements IQueryHandler<GetProfileQuery> {
  constructor(private readonly users: UserRepository) {}

  async execute({ by }: GetProfileQuery): Promise<ProfileView | null> {
    const user = await this.users.findProfile(by);
    return user ? toProfileView(user) : null;
  }
}
