import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { FileRepository } from '../../files/repositories/file.repository';
import { ProjectEntity } from '../entities/project.entity';
import { ProjectRepository } from '../repositories/project.repository';

/**
 * One of the caller's projects (an admin: anyone's) and how many files it
 * holds. Projects are never public: anyone else's answers 404, as if it did
 * not exist.
 */
export class GetProjectQuery extends Query<{ project: ProjectEntity; fileCount: number }> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetProjectQuery)
export class GetProjectHandler implements IQueryHandler<GetProjectQuery> {
  constructor(
    private readonly projects: ProjectRepository,
    private readonly files: FileRepository,
  ) {}

  async execute({ id, actor }: GetProjectQuery): Promise<{ project: ProjectEntity; fileCount: number }> {
    const project = await this.projects.findById(id);
    if (!project || !mayActOn(actor, project.userId)) throw AppError.notFound('Project');
    return { project, fileCount: await this.files.countProjectFiles(id) };
  }
}
