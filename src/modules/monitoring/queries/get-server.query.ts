import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { ownedServer } from '../owned-server';
import { ServerRepository, ServerRow } from '../repositories/server.repository';

/**
 * One server of the caller's (any for an admin, `local` included); someone
 * else's answers 404. Other contexts ask it too (who may watch a server's
 * channel, the alert rules' server).
 */
export class GetServerQuery extends Query<ServerRow> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetServerQuery)
export class GetServerHandler implements IQueryHandler<GetServerQuery> {
  constructor(private readonly servers: ServerRepository) {}

  async execute({ id, actor }: GetServerQuery): Promise<ServerRow> {
    return ownedServer(this.servers, id, actor);
  }
}
