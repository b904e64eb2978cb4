import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { UserView } from '../user.mapper';

/** A user's profile, as the user sees it (served from the auth state cache). */
export class GetUserQuery extends Query<UserView> {
  constructor(readonly userId: string) {
    super();
  }
}

@QueryHandler(GetUserQuery)
export class GetUserHandler implements IQueryHandler<GetUserQuery> {
  constructor(private readonly state: AuthStateCache) {}

  async execute({ userId }: GetUserQuery): Promise<UserView> {
    const user = await this.state.user(userId);
    if (!user) throw AppError.notFound('User');
    return user;
  }
}
