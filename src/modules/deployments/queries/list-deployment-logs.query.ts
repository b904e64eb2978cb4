import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DeploymentLogPage, LogLevel } from '../logs/deployment-log';
import { DeploymentLogRepository } from '../logs/deployment-log.repository';
import { decodeCursor } from '../logs/log-cursor';

/** GET /deployments/:id/logs's filters (DeploymentLogsRequest implements it). */
export interface DeploymentLogFilters {
  /** This level or a more severe one (debug < info < warn < error). */
  level?: LogLevel;
  /** From this time, inclusive. */
  start_time?: Date;
  /** Until this time, inclusive. */
  end_time?: Date;
  /** 1..1000. */
  limit: number;
  /** The previous page's next_cursor; the filters must be the same as for that page. */
  cursor?: string;
}

/**
 * One page of a deployment's log lines, newest first, and the cursor of the
 * next (older) page. It does not check who asks: the caller has already found
 * the deployment with GetDeploymentQuery for the actor (someone else's answers
 * 404 there), and passes only its id here.
 */
export class ListDeploymentLogsQuery extends Query<DeploymentLogPage> {
  constructor(
    readonly deploymentId: string,
    readonly filters: DeploymentLogFilters,
  ) {
    super();
  }
}

@QueryHandler(ListDeploymentLogsQuery)
export class ListDeploymentLogsHandler implements IQueryHandler<ListDeploymentLogsQuery> {
  constructor(private readonly logs: DeploymentLogRepository) {}

  async execute({ deploymentId, filters }: ListDeploymentLogsQuery): Promise<DeploymentLogPage> {
    // A cursor that is not one of ours answers 400 VALIDATION_ERROR naming `cursor`.
    const cursor = filters.cursor === undefined ? undefined : decodeCursor(filters.cursor);
    return this.logs.list(deploymentId, { level: filters.level, start_time: filters.start_time, end_time: filters.end_time, limit: filters.limit, cursor });
  }
}
