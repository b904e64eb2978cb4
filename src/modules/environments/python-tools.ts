import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

export interface ToolResult {
  stdout: string;
  stderr: string;
}

export interface InstalledPackage {
  name: string;
  version: string;
}

/** What of pip's output goes into an error's details: the end, where pip says what went wrong. */
const OUTPUT_TAIL = 4000;
const MAX_BUFFER = 16 * 1024 * 1024;

/**
 * Runs pip, python and conda: execFile with an argument array (never a
 * shell), a minimal environment (PATH, a throwaway HOME, the pip settings
 * from config) and a timeout.
 */
@Injectable()
export class PythonTools {
  private systemVersion?: Promise<string>;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** `python --version` → `3.11.2`. */
  async pythonVersion(python: string): Promise<string> {
    const { stdout, stderr } = await this.run(python, ['--version'], 'python', 30_000);
    return (stdout || stderr).trim().replace(/^Python\s+/i, '');
  }

  /** PYTHON_BIN's version, asked once (a failure is not kept, so the next call asks again). */
  systemPythonVersion(): Promise<string> {
    this.systemVersion ??= this.pythonVersion(this.config.execution.pythonBinary).catch((error: unknown) => {
      this.systemVersion = undefined;
      throw error;
    });
    return this.systemVersion;
  }

  async listPackages(python: string): Promise<InstalledPackage[]> {
    const { stdout } = await this.pip(python, ['list', '--format=json']);
    const rows = JSON.parse(stdout) as { name: string; version: string }[];
    return rows.map((r) => ({ name: r.name, version: r.version })).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** `requirements` are validated PEP 508 strings (see requirement.ts). */
  async install(python: string, requirements: string[], upgrade = false): Promise<void> {
    // Wheels only: building an sdist runs its setup.py, i.e. a stranger's code, on this host outside any sandbox.
    await this.pip(python, ['install', '--only-binary=:all:', ...this.indexOptions(), ...(upgrade ? ['--upgrade'] : []), ...requirements]);
  }

  async uninstall(python: string, name: string): Promise<void> {
    await this.pip(python, ['uninstall', '--yes', name]);
  }

  pip(python: string, args: string[]): Promise<ToolResult> {
    return this.run(python, ['-m', 'pip', ...args], 'pip');
  }

  /** The index and find-links come from the environment (see below); with find-links alone, no index at all. */
  private indexOptions(): string[] {
    const { pipIndexUrl, pipFindLinks } = this.config.environments;
    return pipFindLinks !== undefined && pipIndexUrl === undefined ? ['--no-index'] : [];
  }

  async run(binary: string, args: string[], tool: string, timeoutMs = this.config.environments.installTimeoutMs): Promise<ToolResult> {
    const home = await mkdtemp(join(tmpdir(), 'coderunner-pip-'));
    try {
      return await new Promise<ToolResult>((resolvePromise, reject) => {
        execFile(binary, args, { env: this.environment(home), cwd: home, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: MAX_BUFFER, encoding: 'utf8' }, (error, stdout, stderr) => {
          if (!error) return resolvePromise({ stdout, stderr });
          reject(toolError(tool, error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string }, stdout, stderr, timeoutMs));
        });
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }

  private environment(home: string): NodeJS.ProcessEnv {
    const { pipIndexUrl, pipFindLinks, searchPath } = this.config.environments;
    return {
      PATH: searchPath,
      HOME: home,
      LANG: 'C.UTF-8',
      PYTHONNOUSERSITE: '1',
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
      PIP_NO_INPUT: '1',
      PIP_NO_CACHE_DIR: '1',
      // No /etc/pip.conf or user config may point pip at another index.
      PIP_CONFIG_FILE: '/dev/null',
      ...(pipIndexUrl ? { PIP_INDEX_URL: pipIndexUrl } : {}),
      ...(pipFindLinks ? { PIP_FIND_LINKS: pipFindLinks } : {}),
    };
  }
}

/** Which failures are the caller's (422: no such package or version) and which the index's (502). */
const UNREACHABLE = /(Could not fetch URL|NewConnectionError|ConnectionError|Connection refused|Max retries exceeded|HTTPError|ReadTimeoutError|Name or service not known|Temporary failure in name resolution)/i;

function toolError(tool: string, error: NodeJS.ErrnoException & { killed?: boolean; code?: number | string }, stdout: string, stderr: string, timeoutMs: number): AppError {
  if (error.code === 'ENOENT') return new AppError(ErrorCode.SERVICE_UNAVAILABLE, `${tool} is not available on this server`);
  const output = `${stderr}\n${stdout}`.trim();
  const tail = output.slice(-OUTPUT_TAIL);
  if (error.killed) {
    return new AppError(ErrorCode.UPSTREAM_ERROR, `${tool} did not finish within ${timeoutMs} ms`, { timeout_ms: timeoutMs, output: tail });
  }
  const errors = output.split('\n').filter((line) => line.startsWith('ERROR:'));
  const message = `${tool} failed: ${(errors[0] ?? output.split('\n').at(-1) ?? '').replace(/^ERROR:\s*/, '').slice(0, 500)}`;
  const code = UNREACHABLE.test(output) ? ErrorCode.UPSTREAM_ERROR : ErrorCode.UNPROCESSABLE;
  return new AppError(code, message, { tool, exit_code: typeof error.code === 'number' ? error.code : null, output: tail });
}
