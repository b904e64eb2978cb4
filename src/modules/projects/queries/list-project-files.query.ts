import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { FileRepository } from '../../files/repositories/file.repository';
import { ProjectFile, toProjectFile } from '../project-file';
import { ProjectRepository } from '../repositories/project.repository';

/** Every file (not folder) of one of the caller's projects (an admin: anyone's), by path. */
export class ListProjectFilesQuery extends Query<ProjectFile[]> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(ListProjectFilesQuery)
export class ListProjectFilesHandler implements IQueryHandler<ListProjectFilesQuery> {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly files: FileRepository,
  ) {}

  async execute({ id, actor }: ListProjectFilesQuery): Promise<ProjectFile[]> {
    const ownerId = await this.projects.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('Project');
    return (await this.files.listProjectFiles(id)).map(toProjectFile);
  }
}
