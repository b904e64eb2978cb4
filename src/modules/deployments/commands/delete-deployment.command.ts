import { rmSync } from 'node:fs';
import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { GetDeploymentQuery } from '../queries/get-deployment.query';
import { DeploymentRepository } from '../repositories/deployment.repository';
import { DeploymentLogWriter } from '../logs/deployment-log-writer';
import { SandboxMetricsRepository } from '../metrics/sandbox-metrics.repository';
import { DeploymentControl } from '../runtime/deployment-control';
import { DeploymentRunner } from '../runtime/deployment-runner';
import { VersionFiles } from '../version-files';

/** Stops a deployment and removes it: its processes, rows (versions with it), logs, metrics and files. */
export class DeleteDeploymentCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteDeploymentCommand)
export class DeleteDeploymentHandler implements ICommandHandler<DeleteDeploymentCommand> {
  constructor(
    private readonly queries: QueryBus,
    private readonly deployments: DeploymentRepository,
    private readonly runner: DeploymentRunner,
    private readonly control: DeploymentControl,
    private readonly logs: DeploymentLogWriter,
    private readonly metrics: SandboxMetricsRepository,
    private readonly files: VersionFiles,
  ) {}

  async execute({ actor, id }: DeleteDeploymentCommand): Promise<void> {
    await this.queries.execute(new GetDeploymentQuery(id, actor));
    // First: no replica starts it again (a takeover, a reconcile) between its app stopping and its rows going.
    await this.deployments.setDesiredState(id, 'stopped');
    await this.control.remove(id);
    const released = await this.deployments.delete(id, (manager, manifests) => this.files.release(manager, manifests));
    if (released) await this.files.collect(released);
    await this.logs.removeAll(id);
    await this.metrics.deleteAll(id);
    rmSync(this.runner.deploymentDir(id), { recursive: true, force: true });
  }
}
