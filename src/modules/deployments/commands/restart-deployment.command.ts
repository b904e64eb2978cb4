import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { DeploymentLimits } from '../deployment-limits';
import { assertMove } from '../deployment-state';
import { GetDeploymentQuery } from '../queries/get-deployment.query';
import { DeploymentRow, DeploymentRepository } from '../repositories/deployment.repository';
import { DeploymentControl } from '../runtime/deployment-control';

/**
 * Starts a deployment's current version again (running, stopped or failed;
 * 409 while it is on its way somewhere). Answers `restarting` at once; the
 * start goes on in the background.
 */
export class RestartDeploymentCommand extends Command<DeploymentRow> {
  constructor(
    readonly principal: Principal,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(RestartDeploymentCommand)
export class RestartDeploymentHandler implements ICommandHandler<RestartDeploymentCommand> {
  constructor(
    private readonly queries: QueryBus,
    private readonly deployments: DeploymentRepository,
    private readonly control: DeploymentControl,
    private readonly limits: DeploymentLimits,
  ) {}

  async execute({ principal, id }: RestartDeploymentCommand): Promise<DeploymentRow> {
    const deployment = await this.queries.execute(new GetDeploymentQuery(id, actorOf(principal)));
    assertMove(deployment.status, 'restarting');
    // A stopped one starting again counts against the plan's running deployments.
    await this.deployments.wantRunning(id, deployment.userId, await this.limits.forStart(principal));
    const status = await this.control.restart(id);
    const row = (await this.deployments.findById(id)) ?? deployment;
    // As the restart left it: the start it began may have moved it on already.
    return status ? { ...row, status } : row;
  }
}
