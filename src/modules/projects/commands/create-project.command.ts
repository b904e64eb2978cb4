import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { uuidv7 } from '../../../common/ids';
import { JsonObject, ProjectEntity, ProjectType } from '../entities/project.entity';
import { isDuplicateName, ProjectRepository } from '../repositories/project.repository';

export interface ProjectInput {
  name: string;
  description?: string;
  type: ProjectType;
  repository_url?: string | null;
  default_config?: JsonObject;
}

/** Adds a project to the caller's; names are unique per user (409 otherwise). */
export class CreateProjectCommand extends Command<ProjectEntity> {
  constructor(
    readonly actor: Actor,
    readonly input: ProjectInput,
  ) {
    super();
  }
}

@CommandHandler(CreateProjectCommand)
export class CreateProjectHandler implements ICommandHandler<CreateProjectCommand> {
  constructor(private readonly projects: ProjectRepository) {}

  async execute({ actor, input }: CreateProjectCommand): Promise<ProjectEntity> {
    const now = new Date();
    const row: ProjectEntity = {
      id: uuidv7(),
      userId: actor.userId,
      name: input.name,
      description: input.description ?? '',
      type: input.type,
      repositoryUrl: input.repository_url ?? null,
      defaultConfig: input.default_config ?? {},
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.projects.insert(row);
    } catch (error) {
      throw isDuplicateName(error) ? nameTaken(row.name) : error;
    }
    return row;
  }
}

export function nameTaken(name: string): AppError {
  return AppError.conflict(`A project named ${name} already exists`, { field: 'name' });
}
