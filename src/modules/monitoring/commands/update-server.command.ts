import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
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

/** Changes a server of the caller's (any for an admin, `local` included); someone else's answers 404. */
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
  constructor(private readonly servers: ServerRepository) {}

  async execute({ actor, id, changes }: UpdateServerCommand): Promise<ServerView> {
    await ownedServer(this.servers, id, actor);
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
