import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ProjectEntity } from '../entities/project.entity';
import { isDuplicateName, ProjectRepository } from '../repositories/project.repository';
import { nameTaken, ProjectInput } from './create-project.command';

/** Changes the fields given of one of the caller's projects (an admin: anyone's); anyone else's answers 404. */
export class UpdateProjectCommand extends Command<ProjectEntity> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly changes: Partial<ProjectInput>,
  ) {
    super();
  }
}

@CommandHandler(UpdateProjectCommand)
export class UpdateProjectHandler implements ICommandHandler<UpdateProjectCommand> {
  constructor(private readonly projects: ProjectRepository) {}

  async execute({ actor, id, changes }: UpdateProjectCommand): Promise<ProjectEntity> {
    const ownerId = await this.projects.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('Project');
    const set: Partial<ProjectEntity> = { updatedAt: new Date() };
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.description !== undefined) set.description = changes.description;
    if (changes.type !== undefined) set.type = changes.type;
    // null clears the repository; undefined leaves it.
    if (changes.repository_url !== undefined) set.repositoryUrl = changes.repository_url;
    if (changes.default_config !== undefined) set.defaultConfig = changes.default_config;
    let changed: boolean;
    try {
      // The checked owner is part of the condition: the statement changes nothing the check did not allow.
      changed = await this.projects.updateOwned(id, ownerId, set);
    } catch (error) {
      // Names are unique per owner: the owner's, also when an admin renames it.
      throw isDuplicateName(error) ? nameTaken(changes.name ?? '') : error;
    }
    // False: a concurrent delete won.
    if (!changed) throw AppError.notFound('Project');
    const updated = await this.projects.findById(id);
    if (!updated) throw AppError.notFound('Project');
    return updated;
  }
}
