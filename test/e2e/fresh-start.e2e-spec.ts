import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { freePort } from '../../src/common/net/free-port';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * The fresh-machine smoke test: the compiled app (`node dist/src/main.js`) with
 * no DATABASE_URL and no JWT_SECRET, in an empty DATA_DIR. It must initialise
 * embedded PostgreSQL, generate its secrets, serve, stop cleanly on SIGTERM
 * (leaving no postgres behind), start again on the same data with the same
 * secrets, and get past a stale postmaster.pid left by a crash.
 */

jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const ADMIN_PASSWORD = 'admin-password-123';
const READY_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `pid args` lines of processes whose command line mentions `path`. */
function processesMentioning(path: string): string[] {
  return execFileSync('ps', ['-eo', 'pid,args'])
    .toString()
    .split('\n')
    .filter((line) => line.includes(path) && !line.includes('ps -eo'));
}

/** One run of `node dist/src/main.js`, output captured. */
class AppProcess {
  output = '';
  exitCode: number | null | undefined;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    const append = (chunk: Buffer) => {
      this.output += chunk.toString();
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        r(code);
      }),
    );
  }

  static async start(dataDir: string): Promise<AppProcess> {
    const port = await freePort();
    // Exactly this environment: no DATABASE_URL, no JWT_SECRET, whatever the shell running jest has.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      DATA_DIR: dataDir,
      PORT: String(port),
      HOST: '127.0.0.1',
      ADMIN_PASSWORD,
      LOG_LEVEL: 'info',
    };
    const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const app = new AppProcess(child, `http://127.0.0.1:${port}`);
    void app.exited.then(() => running.delete(child));
    await app.waitHealthy();
    return app;
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(`app exited with ${this.exitCode} (${this.signal}) before it was healthy:\n${this.output}`);
      }
      try {
        const response = await fetch(`${this.url}/api/v1/health`);
        await response.arrayBuffer();
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`app not healthy within ${READY_TIMEOUT_MS} ms:\n${this.output}`);
  }

  /** SIGTERM; resolves with the exit code, or throws after 30 s. */
  async terminate(): Promise<number | null> {
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`app did not exit within ${EXIT_TIMEOUT_MS} ms of SIGTERM:\n${this.output}`)), EXIT_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async request(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${this.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: response.status, body: parsed };
  }
}

const running = new Set<ChildProcess>();
let base: string;
let dataDir: string;

beforeAll(() => {
  // Always build: the test is about what `npm start` runs, i.e. the compiled output.
  try {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`build failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
  }
  expect(existsSync(MAIN)).toBe(true);

  // As root, embedded PostgreSQL runs as the `postgres` user, which must be able to reach DATA_DIR.
  base = mkdtempSync(join(tmpdir(), 'coderunner-fresh-'));
  chmodSync(base, 0o755);
  dataDir = join(base, 'data');
  mkdirSync(dataDir, { mode: 0o755 }); // empty
});

afterAll(async () => {
  for (const child of running) child.kill('SIGKILL');
  // If a run was killed, its postgres (own process group) may survive: stop it.
  if (dataDir) {
    for (const line of processesMentioning(dataDir)) {
      const pid = Number(line.trim().split(/\s+/)[0]);
      if (pid && isAlive(pid)) process.kill(pid, 'SIGQUIT');
    }
    await sleep(500);
  }
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('fresh machine: no DATABASE_URL, no JWT_SECRET, empty DATA_DIR', () => {
  const user = { username: `fresh_${Date.now().toString(36)}`, email: `fresh_${Date.now().toString(36)}@example.test`, password: 'fresh-password-123' };
  let accessToken: string;
  let secrets: string;

  it('starts embedded PostgreSQL, generates secrets (0600), serves, and stops cleanly on SIGTERM', async () => {
    const app = await AppProcess.start(dataDir);

    const secretsFile = join(dataDir, 'secrets.json');
    expect(existsSync(secretsFile)).toBe(true);
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    secrets = readFileSync(secretsFile, 'utf8');
    expect((JSON.parse(secrets) as { jwtSecret: string }).jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);

    const registered = await app.request('POST', '/auth/register', user);
    expect(registered.status).toBe(201);
    accessToken = registered.body.tokens.access;
    expect((await app.request('GET', '/users/me', undefined, accessToken)).body.username).toBe(user.username);
    expect(processesMentioning(dataDir).length).toBeGreaterThan(0); // the postmaster runs on DATA_DIR/postgres

    expect(await app.terminate()).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
    expect(existsSync(join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  });

  it('starts again on the same data: same secrets, the old token still works, login works', async () => {
    const app = await AppProcess.start(dataDir);
    expect(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).toBe(secrets);
    expect(app.output).not.toMatch(/Initialising embedded PostgreSQL/);

    const me = await app.request('GET', '/users/me', undefined, accessToken);
    expect(me.status).toBe(200);
    expect(me.body.username).toBe(user.username);
    const login = await app.request('POST', '/auth/login', { username: user.username, password: user.password });
    expect(login.status).toBe(200);
    expect((await app.request('GET', '/users/me', undefined, login.body.tokens.access)).status).toBe(200);

    expect(await app.terminate()).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  });

  it('gets past a stale postmaster.pid left by a crash, and says so', async () => {
    let deadPid = 999_999;
    while (isAlive(deadPid)) deadPid++;
    const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
    const pgDir = join(dataDir, 'postgres');
    writeFileSync(pidFile, `${deadPid}\n${pgDir}\n${Math.floor(Date.now() / 1000)}\n5432\n${join(dataDir, 'run')}\n127.0.0.1\n  5432001     0\nready   \n`);

    const app = await AppProcess.start(dataDir);
    expect(app.output).toMatch(new RegExp(`[Ss]tale .*postmaster\\.pid.*pid ${deadPid} is not running`));

    const login = await app.request('POST', '/auth/login', { username: user.username, password: user.password });
    expect(login.status).toBe(200);

    expect(await app.terminate()).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  });
});
