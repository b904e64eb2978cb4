import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { UserEnvironmentEntity } from '../entities/user-environment.entity';
import { EnvironmentAccess } from '../environment-access';

/** One environment: the caller's own, a public one, or any for admins; else 404. */
export class GetUserEnvironmentQuery extends Query<UserEnvironmentEntity> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@QueryHandler(GetUserEnvironmentQuery)
export class GetUserEnvironmentHandler implements IQueryHandler<GetUserEnvironmentQuery> {
  constructor(private readonly access: EnvironmentAccess) {}

  execute({ actor, id }: GetUserEnvironmentQuery): Promise<UserEnvironmentEntity> {
    return this.access.readable(actor, id);
  }
}
