import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ownedServer } from '../owned-server';
import { ServerRepository } from '../repositories/server.repository';

/**
 * Removes a server of the caller's and its samples; someone else's answers
 * 404. The platform's own (`local`) cannot be removed (409): it would come
 * back at the next start.
 */
export class DeleteServerCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteServerCommand)
export class DeleteServerHandler implements ICommandHandler<DeleteServerCommand> {
  constructor(private readonly servers: ServerRepository) {}

  async execute({ actor, id }: DeleteServerCommand): Promise<void> {
    const row = await ownedServer(this.servers, id, actor);
    if (row.isLocal) throw AppError.conflict('The platform\'s own server (local) cannot be deleted; stop monitoring it instead');
    if (!(await this.servers.delete(id))) throw AppError.notFound('Server');
  }
}
