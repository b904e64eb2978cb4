import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { UserEnvironmentEntity } from '../entities/user-environment.entity';
import { EnvironmentAccess } from '../environment-access';
import { EnvironmentRepository, isDuplicateName } from '../repositories/environment.repository';

export interface UpdateEnvironmentInput {
  name?: string;
  description?: string;
  is_public?: boolean;
}

/** Renames, redescribes or shares an environment (owner or admin). */
export class UpdateEnvironmentCommand extends Command<UserEnvironmentEntity> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly input: UpdateEnvironmentInput,
  ) {
    super();
  }
}

@CommandHandler(UpdateEnvironmentCommand)
export class UpdateEnvironmentHandler implements ICommandHandler<UpdateEnvironmentCommand> {
  constructor(
    private readonly environments: EnvironmentRepository,
    private readonly access: EnvironmentAccess,
  ) {}

  async execute({ actor, id, input }: UpdateEnvironmentCommand): Promise<UserEnvironmentEntity> {
    const row = await this.access.changeable(actor, id);
    if (input.name !== undefined) row.name = input.name;
    if (input.description !== undefined) row.description = input.description;
    if (input.is_public !== undefined) row.isPublic = input.is_public;
    row.updatedAt = new Date();
    try {
      await this.environments.updateDetails(id, { name: row.name, description: row.description, isPublic: row.isPublic, updatedAt: row.updatedAt });
    } catch (error) {
      if (isDuplicateName(error)) throw AppError.conflict(`An environment named ${row.name} already exists for its owner`, { field: 'name' });
      throw error;
    }
    return row;
  }
}
