import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { ProjectEntity } from '../entities/project.entity';
import { ProjectRepository } from '../repositories/project.repository';

/** One user's projects, newest first (an admin's list is their own too, as for snippets and environments). */
export class ListProjectsQuery extends Query<{ rows: ProjectEntity[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListProjectsQuery)
export class ListProjectsHandler implements IQueryHandler<ListProjectsQuery> {
  constructor(private readonly projects: ProjectRepository) {}

  async execute({ userId, page }: ListProjectsQuery): Promise<{ rows: ProjectEntity[]; pagination: Pagination }> {
    const { rows, total } = await this.projects.listNewestFirst(userId, page);
    return { rows, pagination: pagination(total, page) };
  }
}
