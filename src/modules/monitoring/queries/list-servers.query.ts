import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { Pagination, pagination } from '../../../common/http/pagination';
import { ServerRepository } from '../repositories/server.repository';
import { ServerView, toServerView } from '../server.mapper';

/** The caller's servers, newest first; an admin's list holds the platform's own (`local`) too. */
export class ListServersQuery extends Query<{ servers: ServerView[]; pagination: Pagination }> {
  constructor(
    readonly actor: Actor,
    readonly page: number,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ListServersQuery)
export class ListServersHandler implements IQueryHandler<ListServersQuery> {
  constructor(private readonly servers: ServerRepository) {}

  async execute({ actor, page, limit }: ListServersQuery): Promise<{ servers: ServerView[]; pagination: Pagination }> {
    const { rows, total } = await this.servers.list(actor.userId, actor.admin, { page, limit });
    return { servers: rows.map(toServerView), pagination: pagination(total, { page, limit }) };
  }
}
