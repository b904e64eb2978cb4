import { accessSync, constants } from 'node:fs';
import { basename, delimiter, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { PythonTools } from './python-tools';

const CANDIDATES = ['conda', 'mamba', 'micromamba'];

/**
 * The conda backend: CONDA_BIN, or the first of conda, mamba, micromamba on
 * PATH. All three speak `env list --json` and `create -y -p <prefix> python=<v>`.
 */
@Injectable()
export class Conda {
  readonly binary: string | null;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly tools: PythonTools,
  ) {
    this.binary = config.environments.condaBinary ?? findOnPath(CANDIDATES, config.environments.searchPath);
  }

  get available(): boolean {
    return this.binary !== null;
  }

  /** Names of the environments conda knows (the last path segment of each prefix). */
  async environmentNames(): Promise<string[]> {
    if (!this.binary) return [];
    const { stdout } = await this.tools.run(this.binary, ['env', 'list', '--json'], 'conda', 60_000);
    const envs = (JSON.parse(stdout) as { envs?: unknown }).envs;
    return Array.isArray(envs) ? envs.filter((e): e is string => typeof e === 'string').map((e) => basename(e)) : [];
  }

  async create(prefix: string, pythonVersion: string): Promise<void> {
    if (!this.binary) throw new Error('conda is not available');
    await this.tools.run(this.binary, ['create', '-y', '-p', prefix, `python=${pythonVersion}`], 'conda');
  }
}

function findOnPath(names: string[], searchPath: string): string | null {
  for (const name of names) {
    for (const dir of searchPath.split(delimiter).filter(Boolean)) {
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}
