import { rmSync } from 'node:fs';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../../../common/auth/principal';
import { uuidv7 } from '../../../common/ids';
import { AppLogger } from '../../../common/logging/app-logger';
import { AppFile, inferRuntime, Runtime, writeFiles } from '../app-files';
import { DeploymentLimits } from '../deployment-limits';
import { DeploymentConfigInput, DeploymentVersions } from '../deployment-versions';
import { DeploymentRow, DeploymentRepository } from '../repositories/deployment.repository';
import { DeploymentRunner } from '../runtime/deployment-runner';
import { VersionFiles } from '../version-files';

/** What a new deployment is made of (the request DTO implements it). */
export interface DeploymentInput {
  name: string;
  files: AppFile[];
  runtime?: Runtime;
  config?: DeploymentConfigInput;
}

/**
 * Creates a deployment and its version 1 (DeploymentVersions), its files
 * written under DATA_DIR; then the app is started in the background (DeploymentRunner) — the answer is
 * the deployment as `pending`, its progress on `deployment:<id>`.
 */
export class CreateDeploymentCommand extends Command<DeploymentRow> {
  constructor(
    readonly principal: Principal,
    readonly input: DeploymentInput,
  ) {
    super();
  }
}

@CommandHandler(CreateDeploymentCommand)
export class CreateDeploymentHandler implements ICommandHandler<CreateDeploymentCommand> {
  constructor(
    private readonly deployments: DeploymentRepository,
    private readonly runner: DeploymentRunner,
    private readonly versions: DeploymentVersions,
    private readonly limits: DeploymentLimits,
    private readonly files: VersionFiles,
    private readonly logger: AppLogger,
  ) {}

  async execute({ principal, input }: CreateDeploymentCommand): Promise<DeploymentRow> {
    const runtime = input.runtime ?? inferRuntime(input.files);
    const config = input.config ?? {};
    const version = this.versions.make(runtime, input.files, config, config.env_vars ?? {});
    const allowed = await this.limits.forCreate(principal);
    const staged = await this.files.stage(input.files);
    const id = uuidv7();
    const dir = this.runner.versionDir(id, 1);
    writeFiles(dir, input.files);
    let row: DeploymentRow;
    try {
      row = await this.deployments.create({ id, userId: principal.user_id, name: input.name, runtime }, { ...version, files: staged.manifest }, allowed, (manager) =>
        this.files.hold(manager, staged),
      );
    } catch (error) {
      rmSync(this.runner.deploymentDir(id), { recursive: true, force: true });
      throw error;
    } finally {
      await this.files.discard(staged);
    }
    this.runner.launch(id).catch((error: unknown) => this.logger.pino.error({ err: error, deployment: id }, 'deployment did not start'));
    return row;
  }
}
