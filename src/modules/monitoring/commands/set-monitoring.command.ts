import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ownedServer } from '../owned-server';
import { ServerRepository } from '../repositories/server.repository';
import { ServerView, toServerView } from '../server.mapper';

/**
 * POST /monitor/servers (monitored: true) and DELETE /monitor/servers/:id
 * (false): a server of the caller's is probed by servers.probe from its next
 * round, or no longer (its status becomes unknown). Idempotent: starting a
 * monitored server changes nothing. Someone else's answers 404.
 */
export class SetMonitoringCommand extends Command<ServerView> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly monitored: boolean,
  ) {
    super();
  }
}

@CommandHandler(SetMonitoringCommand)
export class SetMonitoringHandler implements ICommandHandler<SetMonitoringCommand> {
  constructor(private readonly servers: ServerRepository) {}

  async execute({ actor, id, monitored }: SetMonitoringCommand): Promise<ServerView> {
    const row = await ownedServer(this.servers, id, actor);
    if (row.monitored === monitored) return toServerView(row);
    const updated = await this.servers.setMonitored(id, monitored);
    if (!updated) throw AppError.notFound('Server');
    return toServerView(updated);
  }
}
