import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { DeploymentRow, DeploymentRepository } from '../repositories/deployment.repository';

/** One deployment of the caller's (any for an admin); someone else's answers 404. Other contexts ask it too (who may watch a deployment's channel). */
export class GetDeploymentQuery extends Query<DeploymentRow> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetDeploymentQuery)
export class GetDeploymentHandler implements IQueryHandler<GetDeploymentQuery> {
  constructor(private readonly deployments: DeploymentRepository) {}

  async execute({ id, actor }: GetDeploymentQuery): Promise<DeploymentRow> {
    const row = await this.deployments.findById(id);
    if (!row || !mayActOn(actor, row.userId)) throw AppError.notFound('Deployment');
    return row;
  }
}
