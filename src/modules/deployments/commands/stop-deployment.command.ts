import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { assertMove } from '../deployment-state';
import { GetDeploymentQuery } from '../queries/get-deployment.query';
import { DeploymentRow, DeploymentRepository } from '../repositories/deployment.repository';
import { DeploymentControl } from '../runtime/deployment-control';

/** Stops a deployment (409 when it is stopped or stopping already); answers once its processes are gone. It stays stopped across platform restarts. */
export class StopDeploymentCommand extends Command<DeploymentRow> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(StopDeploymentCommand)
export class StopDeploymentHandler implements ICommandHandler<StopDeploymentCommand> {
  constructor(
    private readonly queries: QueryBus,
    private readonly deployments: DeploymentRepository,
    private readonly control: DeploymentControl,
  ) {}

  async execute({ actor, id }: StopDeploymentCommand): Promise<DeploymentRow> {
    const deployment = await this.queries.execute(new GetDeploymentQuery(id, actor));
    assertMove(deployment.status, 'stopping');
    await this.deployments.setDesiredState(id, 'stopped');
    await this.control.stop(id);
    return (await this.deployments.findById(id)) ?? deployment;
  }
}
