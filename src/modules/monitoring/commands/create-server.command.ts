import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { checkServerHost } from '../host-policy';
import { ServerRepository } from '../repositories/server.repository';
import { ServerView, toServerView } from '../server.mapper';

/** What a new server is made of (CreateServerRequest implements it; the host is checked there: a name or an IP, no URL). */
export interface ServerInput {
  name: string;
  host: string;
  port: number;
  description?: string | null;
  tags?: string[];
  os?: string | null;
  probe_interval_seconds?: number | null;
  monitored?: boolean;
}

/**
 * A server of the caller's; probed from the next round when `monitored`. A
 * user's (not an admin's) host may not be a refused address (host-policy.ts:
 * 400 on `host`), and they may have at most MONITOR_MAX_SERVERS_PER_USER
 * servers (403 FORBIDDEN, details {limit, servers}).
 */
export class CreateServerCommand extends Command<ServerView> {
  constructor(
    readonly actor: Actor,
    readonly input: ServerInput,
  ) {
    super();
  }
}

@CommandHandler(CreateServerCommand)
export class CreateServerHandler implements ICommandHandler<CreateServerCommand> {
  constructor(
    private readonly servers: ServerRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ actor, input }: CreateServerCommand): Promise<ServerView> {
    const { allowPrivateHosts, maxServersPerUser } = this.config.monitoring;
    if (!actor.admin) checkServerHost(input.host, allowPrivateHosts);
    const row = await this.servers.create(
      uuidv7(),
      actor.userId,
      {
        name: input.name,
        host: input.host.toLowerCase(),
        port: input.port,
        description: input.description ?? null,
        tags: [...new Set(input.tags ?? [])],
        os: input.os ?? null,
        probeIntervalSeconds: input.probe_interval_seconds ?? null,
      },
      input.monitored ?? false,
      actor.admin ? null : maxServersPerUser,
    );
    if (!('id' in row)) {
      throw new AppError(ErrorCode.FORBIDDEN, `You may have at most ${row.limit} servers; delete one to add another`, { limit: row.limit, servers: row.count });
    }
    return toServerView(row);
  }
}
