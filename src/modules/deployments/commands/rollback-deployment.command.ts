import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { configInputOf, DeploymentVersions } from '../deployment-versions';
import { GetDeploymentQuery } from '../queries/get-deployment.query';
import { DeploymentRow, DeploymentRepository } from '../repositories/deployment.repository';
import { DeploymentRunner } from '../runtime/deployment-runner';
import { VersionFiles } from '../version-files';
import { VersionPublisher } from '../version-publisher';

/**
 * Makes a new version from an earlier one's files, config and variables and
 * puts it in place as a change does (history stays linear: rolling back to 2
 * from 5 makes 6). 404 for a version that does not exist.
 */
export class RollbackDeploymentCommand extends Command<DeploymentRow> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly versionNumber: number,
  ) {
    super();
  }
}

@CommandHandler(RollbackDeploymentCommand)
export class RollbackDeploymentHandler implements ICommandHandler<RollbackDeploymentCommand> {
  constructor(
    private readonly queries: QueryBus,
    private readonly deployments: DeploymentRepository,
    private readonly versions: DeploymentVersions,
    private readonly runner: DeploymentRunner,
    private readonly files: VersionFiles,
    private readonly publisher: VersionPublisher,
  ) {}

  async execute({ actor, id, versionNumber }: RollbackDeploymentCommand): Promise<DeploymentRow> {
    const deployment = await this.queries.execute(new GetDeploymentQuery(id, actor));
    const earlier = await this.deployments.version(id, versionNumber);
    if (!earlier) throw AppError.notFound('Version');
    const files = await this.files.read(earlier.files, this.runner.versionDir(id, versionNumber));
    const made = this.versions.make(deployment.runtime, files, configInputOf(earlier.config), this.versions.envOf(earlier));
    await this.publisher.publish(id, files, made);
    return (await this.deployments.findById(id)) ?? deployment;
  }
}
