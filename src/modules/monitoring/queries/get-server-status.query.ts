import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { ServerRepository, ServerStatus } from '../repositories/server.repository';
import { ownedServer } from '../owned-server';

export interface ServerStatusView {
  server_id: string;
  status: ServerStatus;
  /** The last probe's TCP connect time; null before the first probe or when it failed. */
  latency_ms: number | null;
  checked_at: string | null;
  /** When the current status was first seen. */
  status_since: string | null;
  monitored: boolean;
}

/** A server's probe verdict; someone else's server answers 404. */
export class GetServerStatusQuery extends Query<ServerStatusView> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetServerStatusQuery)
export class GetServerStatusHandler implements IQueryHandler<GetServerStatusQuery> {
  constructor(private readonly servers: ServerRepository) {}

  async execute({ id, actor }: GetServerStatusQuery): Promise<ServerStatusView> {
    const row = await ownedServer(this.servers, id, actor);
    return {
      server_id: row.id,
      status: row.status,
      latency_ms: row.latencyMs === null ? null : Math.round(row.latencyMs * 100) / 100,
      checked_at: row.checkedAt?.toISOString() ?? null,
      status_since: row.statusSince?.toISOString() ?? null,
      monitored: row.monitored,
    };
  }
}
