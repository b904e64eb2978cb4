import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { toVersionView, VersionView } from '../deployment.mapper';
import { DeploymentRepository } from '../repositories/deployment.repository';
import { GetDeploymentQuery } from './get-deployment.query';

/** A deployment's versions, newest first (someone else's deployment: 404). */
export class ListDeploymentVersionsQuery extends Query<{ versions: VersionView[] }> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(ListDeploymentVersionsQuery)
export class ListDeploymentVersionsHandler implements IQueryHandler<ListDeploymentVersionsQuery> {
  constructor(
    private readonly queries: QueryBus,
    private readonly deployments: DeploymentRepository,
  ) {}

  async execute({ id, actor }: ListDeploymentVersionsQuery): Promise<{ versions: VersionView[] }> {
    const deployment = await this.queries.execute(new GetDeploymentQuery(id, actor));
    const rows = await this.deployments.versions(id);
    return { versions: rows.map((row) => toVersionView(row, deployment.currentVersion)) };
  }
}
