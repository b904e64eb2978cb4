import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { UserEnvironmentEntity } from '../entities/user-environment.entity';
import { EnvironmentAccess } from '../environment-access';
import { EnvironmentDirectories } from '../environment-directories';
import { EnvironmentLocks } from '../environment-locks';

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
    @InjectRepository(UserEnvironmentEntity) private readonly environments: Repository<UserEnvironmentEntity>,
    private readonly access: EnvironmentAccess,
    private readonly directories: EnvironmentDirectories,
    private readonly locks: EnvironmentLocks,
  ) {}

  async execute({ actor, id }: DeleteEnvironmentCommand): Promise<void> {
    await this.access.changeable(actor, id);
    await this.locks.run(id, async () => {
      const result = await this.environments.delete({ id });
      if (!result.affected) throw AppError.notFound('Environment');
      await this.directories.remove(id);
    });
  }
}
