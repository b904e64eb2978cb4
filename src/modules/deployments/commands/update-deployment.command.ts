import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AppFile } from '../app-files';
import { configInputOf, DeploymentVersions } from '../deployment-versions';
import { GetDeploymentQuery } from '../queries/get-deployment.query';
import { DeploymentRow, DeploymentRepository } from '../repositories/deployment.repository';
import { DeploymentRunner } from '../runtime/deployment-runner';
import { VersionFiles } from '../version-files';
import { VersionPublisher } from '../version-publisher';
import type { DeploymentConfigInput } from '../deployment-versions';

/** What PATCH /deployments/:id changes; absent fields are kept. */
export interface DeploymentChanges {
  name?: string;
  /** The whole new set of files. */
  files?: AppFile[];
  /** Merged over the current version's; `env_vars`, when given, replaces them all. */
  config?: DeploymentConfigInput;
}

/**
 * Renames a deployment and, when files or config change, makes a new version
 * from the current one with the changes and puts it in place without downtime
 * (VersionPublisher). Answers at once; the switch goes on in the
 * background (its progress on deployment:<id>).
 */
export class UpdateDeploymentCommand extends Command<DeploymentRow> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly changes: DeploymentChanges,
  ) {
    super();
  }
}

@CommandHandler(UpdateDeploymentCommand)
export class UpdateDeploymentHandler implements ICommandHandler<UpdateDeploymentCommand> {
  constructor(
    private readonly queries: QueryBus,
    private readonly deployments: DeploymentRepository,
    private readonly versions: DeploymentVersions,
    private readonly runner: DeploymentRunner,
    private readonly files: VersionFiles,
    private readonly publisher: VersionPublisher,
  ) {}

  async execute({ actor, id, changes }: UpdateDeploymentCommand): Promise<DeploymentRow> {
    const deployment = await this.queries.execute(new GetDeploymentQuery(id, actor));
    if (changes.name !== undefined) await this.deployments.rename(id, changes.name);
    if (changes.files === undefined && changes.config === undefined) return (await this.deployments.findById(id)) ?? deployment;

    const current = await this.deployments.version(id, deployment.currentVersion);
    if (!current) throw AppError.conflict('The deployment\'s current version is missing');
    const files = changes.files ?? (await this.files.read(current.files, this.runner.versionDir(id, current.versionNumber)));
    const config: DeploymentConfigInput = { ...configInputOf(current.config), ...changes.config };
    const env = changes.config?.env_vars ?? this.versions.envOf(current);
    const made = this.versions.make(deployment.runtime, files, config, env);
    await this.publisher.publish(id, files, made);
    return (await this.deployments.findById(id)) ?? deployment;
  }
}
