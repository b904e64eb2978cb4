import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Pagination, pagination } from '../../../common/http/pagination';
import type { DeploymentStatus } from '../deployment-state';
import { DeploymentView, toDeploymentView } from '../deployment.mapper';
import { DeploymentRepository } from '../repositories/deployment.repository';

/** The caller's deployments, newest first, optionally of one status. */
export class ListDeploymentsQuery extends Query<{ deployments: DeploymentView[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly status: DeploymentStatus | undefined,
    readonly page: number,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ListDeploymentsQuery)
export class ListDeploymentsHandler implements IQueryHandler<ListDeploymentsQuery> {
  constructor(private readonly deployments: DeploymentRepository) {}

  async execute({ userId, status, page, limit }: ListDeploymentsQuery): Promise<{ deployments: DeploymentView[]; pagination: Pagination }> {
    const { rows, total } = await this.deployments.list(userId, status, { page, limit });
    return { deployments: rows.map(toDeploymentView), pagination: pagination(total, { page, limit }) };
  }
}
