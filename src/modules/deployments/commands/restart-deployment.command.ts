import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppLogger } from '../../../common/logging/app-logger';
import { assertMove } from '../deployment-state';
import { GetDeploymentQuery } from '../queries/get-deployment.query';
import { DeploymentRow, DeploymentRepository } from '../repositories/deployment.repository';
import { DeploymentRunner } from '../runtime/deployment-runner';

/**
 * Starts a deployment's current version again (running, stopped or failed;
 * 409 while it is on its way somewhere). Answers `restarting` at once; the
 * start goes on in the background.
 */
export class RestartDeploymentCommand extends Command<DeploymentRow> {
  constructor(
    readonly actor: Actor,
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
    private readonly runner: DeploymentRunner,
    private readonly logger: AppLogger,
  ) {}

  async execute({ actor, id }: RestartDeploymentCommand): Promise<DeploymentRow> {
    const deployment = await this.queries.execute(new GetDeploymentQuery(id, actor));
    assertMove(deployment.status, 'restarting');
    await this.deployments.setDesiredState(id, 'running');
    const row = (await this.deployments.setStatus(id, 'restarting', null)) ?? deployment;
    this.runner.launch(id).catch((error: unknown) => this.logger.pino.error({ err: error, deployment: id }, 'deployment did not restart'));
    return row;
  }
}
