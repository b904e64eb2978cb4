import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { AppProcess, build, isAlive, killAll, processesMentioning, stopProcessesMentioning } from '../support/app-process';

/**
 * The fresh-machine smoke test: the compiled app (`node dist/src/main.js`) with
 * no DATABASE_URL, no JWT_SECRET and no ADMIN_PASSWORD, in an empty DATA_DIR. It
 * must initialise embedded PostgreSQL, generate its secrets, show the admin
 * password in a readable console, serve, stop cleanly on SIGTERM (leaving no
 * postgres behind), start again on the same data with the same secrets, and get
 * past a stale postmaster.pid left by a crash.
 */

jest.setTimeout(300_000);

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');

let base: string;
let dataDir: string;

/** The app as `npm start` runs it on DATA_DIR, with `env` on top of none of the optional settings. */
const start = (env: Record<string, string> = {}) => AppProcess.start(MAIN, ROOT, { DATA_DIR: dataDir, LOG_LEVEL: 'info', ...env });

beforeAll(() => {
  // Always build: the test is about what `npm start` runs, i.e. the compiled output.
  build(ROOT);
  expect(existsSync(MAIN)).toBe(true);

  // As root, embedded PostgreSQL runs as the `postgres` user, which must be able to reach DATA_DIR.
  base = mkdtempSync(join(tmpdir(), 'coderunner-fresh-'));
  chmodSync(base, 0o755);
  dataDir = join(base, 'data');
  mkdirSync(dataDir, { mode: 0o755 }); // empty
});

afterAll(async () => {
  killAll();
  if (dataDir) await stopProcessesMentioning(dataDir);
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('fresh machine: no DATABASE_URL, no JWT_SECRET, no ADMIN_PASSWORD, empty DATA_DIR', () => {
  const user = { username: `fresh_${Date.now().toString(36)}`, email: `fresh_${Date.now().toString(36)}@example.test`, password: 'fresh-password-123' };
  let accessToken: string;
  let secrets: string;

  it('starts embedded PostgreSQL, generates secrets (0600), serves, and stops cleanly on SIGTERM', async () => {
    const app = await start();

    const secretsFile = join(dataDir, 'secrets.json');
    expect(existsSync(secretsFile)).toBe(true);
    expect(statSync(secretsFile).mode & 0o777).toBe(0o600);
    secrets = readFileSync(secretsFile, 'utf8');
    expect((JSON.parse(secrets) as { jwtSecret: string }).jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(existsSync(join(dataDir, 'postgres', 'PG_VERSION'))).toBe(true);

    // The console: no line per route; the generated password framed; where it listens.
    await app.waitForOutput('CodeRunner listening on');
    const startUp = app.output.slice(0, app.output.indexOf('CodeRunner listening on'));
    expect(startUp.split('\n').length).toBeLessThan(25);
    expect(app.output).not.toMatch(/RouterExplorer|RoutesResolver|InstanceLoader/);
    const banner = /^(=+)\n {2}First admin created\n {4}username: admin\n {4}password: (\S+)\n.*\n\1$/m.exec(app.output);
    expect(banner).not.toBeNull();
    const port = new URL(app.url).port;
    expect(app.output).toContain(`CodeRunner listening on 127.0.0.1:${port}; API http://127.0.0.1:${port}/api/v1, Swagger UI http://127.0.0.1:${port}/docs`);
    expect((await app.request('POST', '/auth/login', { username: 'admin', password: banner![2] })).status).toBe(200);

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
    const app = await start();
    expect(readFileSync(join(dataDir, 'secrets.json'), 'utf8')).toBe(secrets);
    expect(app.output).not.toMatch(/Initialising embedded PostgreSQL/);
    expect(app.output).not.toMatch(/First admin created/); // shown once, by the first start

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

    // Also: human-readable lines on request, and one line naming a missing system package.
    const app = await start({ LOG_FORMAT: 'pretty', BWRAP_BIN: join(base, 'no-bwrap') });
    expect(app.output).toMatch(new RegExp(`[Ss]tale .*postmaster\\.pid.*pid ${deadPid} is not running`));
    await app.waitForOutput('CodeRunner listening on');
    expect(app.output).not.toMatch(/^\{/m);
    expect(app.output).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO.*\[Bootstrap\] CodeRunner listening on/m);
    expect(app.output.match(/Missing system packages: bubblewrap \(code runs answer 503\)/g)).toHaveLength(1);

    const login = await app.request('POST', '/auth/login', { username: user.username, password: user.password });
    expect(login.status).toBe(200);

    expect(await app.terminate()).toBe(0);
    expect(processesMentioning(dataDir)).toEqual([]);
  });
});
