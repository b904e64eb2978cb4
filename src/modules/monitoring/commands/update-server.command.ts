import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { checkServerHost } from '../host-policy';
import { ownedServer } from '../owned-server';
import { ServerFields, ServerRepository } from '../repositories/server.repository';
import { ServerView, toServerView } from '../server.mapper';

/** The fields a PUT changes; those left out stay; null clears description, os and probe_interval_seconds. */
export interface ServerChanges {
  name?: string;
  host?: string;
  port?: number;
  description?: string | null;
  tags?: string[];
  os?: string | null;
  probe_interval_seconds?: number | null;
}

/**
 * Changes a server of the caller's (any for an admin, `local` included);
 * someone else's answers 404. A new host of a user's server is checked as on
 * create (host-policy.ts); a new host or port resets the probes' status.
 */
export class UpdateServerCommand extends Command<ServerView> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly changes: ServerChanges,
  ) {
    super();
  }
}

@CommandHandler(UpdateServerCommand)
export class UpdateServerHandler implements ICommandHandler<UpdateServerCommand> {
  constructor(
    private readonly servers: ServerRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ actor, id, changes }: UpdateServerCommand): Promise<ServerView> {
    const server = await ownedServer(this.servers, id, actor);
    // The owner's standing decides, not the editor's: an admin editing a user's server may not point it inward either.
    if (changes.host !== undefined && server.userId !== null && !(actor.admin && server.userId === actor.userId)) {
      checkServerHost(changes.host, this.config.monitoring.allowPrivateHosts);
    }
    const fields: Partial<ServerFields> = {
      name: changes.name,
      host: changes.host?.toLowerCase(),
      port: changes.port,
      description: changes.description,
      tags: changes.tags ? [...new Set(changes.tags)] : undefined,
      os: changes.os,
      probeIntervalSeconds: changes.probe_interval_seconds,
    };
    const row = await this.servers.update(id, fields);
    if (!row) throw AppError.notFound('Server');
    return toServerView(row);
  }
}
