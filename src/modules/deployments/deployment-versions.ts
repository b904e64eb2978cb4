import { Injectable } from '@nestjs/common';
import { SecretBox } from '../../common/crypto/secret-box';
import { AppFile, checkFiles, invalid, runSpecOf, Runtime } from './app-files';
import type { VersionConfig, VersionRow } from './repositories/deployment.repository';

/** A version's config as requests give it (create, PATCH). */
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

export type NewVersion = Omit<VersionRow, 'deploymentId' | 'versionNumber' | 'createdAt'>;

/** A stored version's config as a request would give it (for a version made from it). */
export function configInputOf(config: VersionConfig): DeploymentConfigInput {
  return {
    ...(config.build_command !== null && { build_command: config.build_command }),
    start_command: config.start_command,
    port: config.port,
    health_check_path: config.health_check_path,
    private: config.private,
  };
}

/**
 * What a version is made of, the same way for a new deployment, a change and
 * a rollback: the files checked, the start (and build) command resolved from
 * the config, a manifest or the runtime's conventions, the variables checked
 * and sealed (SecretBox: only their names are kept in the clear).
 */
@Injectable()
export class DeploymentVersions {
  constructor(private readonly box: SecretBox) {}

  make(runtime: Runtime, files: AppFile[], config: DeploymentConfigInput, env: Record<string, string>): NewVersion {
    checkFiles(files);
    for (const name of Object.keys(env)) {
      if (!ENV_NAME.test(name) || RESERVED_ENV.has(name)) throw invalid('config.env_vars', `"${name.slice(0, 40)}" is not a variable name an app may set`);
    }
    const spec = runSpecOf(runtime, files, config);
    const versionConfig: VersionConfig = { ...spec, private: config.private ?? false, env_names: Object.keys(env).sort() };
    return {
      files: files.map((file) => ({ path: file.path, size: Buffer.byteLength(file.content) })),
      config: versionConfig,
      envVarsSealed: Object.keys(env).length ? this.box.seal(JSON.stringify(env)) : null,
    };
  }

  /** A stored version's variables, opened. */
  envOf(version: VersionRow): Record<string, string> {
    return version.envVarsSealed ? (JSON.parse(this.box.open(version.envVarsSealed)) as Record<string, string>) : {};
  }
}
