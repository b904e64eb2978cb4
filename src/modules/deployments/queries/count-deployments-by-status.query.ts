import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { DEPLOYMENT_STATUSES, DeploymentStatus } from '../deployment-state';

/** Every user's deployments, counted by status now; every status is present (0 when none). */
export class CountDeploymentsByStatusQuery extends Query<Record<DeploymentStatus, number>> {}

@QueryHandler(CountDeploymentsByStatusQuery)
export class CountDeploymentsByStatusHandler implements IQueryHandler<CountDeploymentsByStatusQuery> {
  constructor(private readonly dataSource: DataSource) {}

  async execute(): Promise<Record<DeploymentStatus, number>> {
    const counts = Object.fromEntries(DEPLOYMENT_STATUSES.map((status) => [status, 0])) as Record<DeploymentStatus, number>;
    const rows: Array<{ status: DeploymentStatus; count: number }> = await this.dataSource.query(
      'SELECT status, count(*)::int AS count FROM deployments GROUP BY status',
    );
    for (const { status, count } of rows) counts[status] = count;
    return counts;
  }
}
