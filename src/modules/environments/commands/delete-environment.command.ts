import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { EnvironmentAccess } from '../environment-access';
import { EnvironmentDirectories } from '../environment-directories';
import { EnvironmentLocks } from '../environment-locks';
import { EnvironmentRepository } from '../repositories/environment.repository';

/** Deletes an environment and its directory, after any pip run in it has finished. */
export class DeleteEnvironmentCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteEnvironmentCommand)
export class DeleteEnvironmentHandler implements ICommandHandler<DeleteEnvironmentCommand> {
  constructor(
    private readonly environments: EnvironmentRepository,
    private readonly access: EnvironmentAccess,
    private readonly directories: EnvironmentDirectories,
    private readonly locks: EnvironmentLocks,
  ) {}

  async execute({ actor, id }: DeleteEnvironmentCommand): Promise<void> {
    await this.access.changeable(actor, id);
    await this.locks.run(id, async () => {
      if (!(await this.environments.delete(id))) throw AppError.notFound('Environment');
      await this.directories.remove(id);
    });
  }
}
