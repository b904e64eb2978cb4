import { rmSync } from 'node:fs';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Principal } from '../../../common/auth/principal';
import { SecretBox } from '../../../common/crypto/secret-box';
import { uuidv7 } from '../../../common/ids';
import { AppLogger } from '../../../common/logging/app-logger';
import { AppFile, checkFiles, inferRuntime, invalid, runSpecOf, Runtime, writeFiles } from '../app-files';
import { DeploymentRow, DeploymentRepository, VersionConfig } from '../repositories/deployment.repository';
import { DeploymentRunner } from '../runtime/deployment-runner';

/** What a new deployment is made of (the request DTO implements it). */
export interface DeploymentInput {
  name: string;
  files: AppFile[];
  runtime?: Runtime;
  config?: DeploymentConfigInput;
}

export interface DeploymentConfigInput {
  env_vars?: Record<string, string>;
  build_command?: string;
  start_command?: string;
  port?: number;
  health_check_path?: string;
  /** The proxy asks for the owner's token (default: public). */
  private?: boolean;
}

/** Variable names an app may set: the platform sets PORT and HOST itself. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const RESERVED_ENV = new Set(['PORT', 'HOST', 'PATH', 'HOME', 'TMPDIR']);

/**
 * Creates a deployment and its version 1: the files are checked and written
 * under DATA_DIR, the start (and build) command resolved from the config, a
 * manifest or the runtime's conventions, the variables sealed (SecretBox);
 * then the app is started in the background (DeploymentRunner) — the answer is
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
    private readonly box: SecretBox,
    private readonly logger: AppLogger,
  ) {}

  async execute({ principal, input }: CreateDeploymentCommand): Promise<DeploymentRow> {
    checkFiles(input.files);
    const runtime = input.runtime ?? inferRuntime(input.files);
    const config = input.config ?? {};
    const spec = runSpecOf(runtime, input.files, config);
    const env = config.env_vars ?? {};
    for (const name of Object.keys(env)) {
      if (!ENV_NAME.test(name) || RESERVED_ENV.has(name)) throw invalid('config.env_vars', `"${name.slice(0, 40)}" is not a variable name an app may set`);
    }
    const versionConfig: VersionConfig = { ...spec, private: config.private ?? false, env_names: Object.keys(env).sort() };
    const id = uuidv7();
    const dir = this.runner.versionDir(id, 1);
    writeFiles(dir, input.files);
    let row: DeploymentRow;
    try {
      row = await this.deployments.create(
        { id, userId: principal.user_id, name: input.name, runtime },
        {
          files: input.files.map((file) => ({ path: file.path, size: Buffer.byteLength(file.content) })),
          config: versionConfig,
          envVarsSealed: Object.keys(env).length ? this.box.seal(JSON.stringify(env)) : null,
        },
      );
    } catch (error) {
      rmSync(this.runner.deploymentDir(id), { recursive: true, force: true });
      throw error;
    }
    this.runner.launch(id).catch((error: unknown) => this.logger.pino.error({ err: error, deployment: id }, 'deployment did not start'));
    return row;
  }
}
