import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { AppProcess, build, killAll, processesMentioning, stopProcessesMentioning } from '../support/app-process';

/**
 * A newcomer's clone in root's home directory: `npm ci && npm start` as root in
 * a directory only root can enter (mode 0700, like /root). Embedded PostgreSQL
 * runs as the postgres user, which can reach neither the binaries in the
 * clone's node_modules nor the default DATA_DIR (./.data); it must get both
 * elsewhere, say where, and keep its data across restarts.
 */

jest.setTimeout(400_000);

const ROOT = resolve(__dirname, '..', '..');
const ADMIN_PASSWORD = 'admin-password-123';
const asRoot = process.getuid?.() === 0;

let home: string;
let clone: string;
/** Where the cluster went: the target of the clone's .data/postgres. */
let cluster: string | undefined;

/** `npm start`'s second half, in the clone, with none of the optional settings. */
const start = () => AppProcess.start(join(clone, 'dist', 'src', 'main.js'), clone, { ADMIN_PASSWORD, LOG_LEVEL: 'info' });

beforeAll(() => {
  if (!asRoot) return;
  home = mkdtempSync(join(tmpdir(), 'coderunner-home-'));
  expect(statSync(home).mode & 0o777).toBe(0o700);
  clone = join(home, 'clone');
  // What `npm run build` reads; node_modules hard-linked (a real copy across file systems), so
  // every file really is inside the 0700 directory, the binaries included.
  // (test/support: the AI bench's stand-in upstream is built with it.)
  for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'migrations', 'scripts', 'bench', 'test/support']) {
    cpSync(join(ROOT, entry), join(clone, entry), { recursive: true });
  }
  try {
    execFileSync('cp', ['-al', join(ROOT, 'node_modules'), join(clone, 'node_modules')], { stdio: 'pipe' });
  } catch {
    rmSync(join(clone, 'node_modules'), { recursive: true, force: true });
    execFileSync('cp', ['-a', join(ROOT, 'node_modules'), join(clone, 'node_modules')], { stdio: 'pipe' });
  }
  build(clone);
});

afterAll(async () => {
  killAll();
  if (cluster) {
    await stopProcessesMentioning(cluster);
    rmSync(dirname(cluster), { recursive: true, force: true });
  }
  if (home) rmSync(home, { recursive: true, force: true });
});

(asRoot ? describe : describe.skip)('as root, a clone in a 0700 home directory, default DATA_DIR', () => {
  const user = { username: `home_${Date.now().toString(36)}`, email: `home_${Date.now().toString(36)}@example.test`, password: 'home-password-123' };

  it('starts embedded PostgreSQL from copies the postgres user can reach, says where, serves and stops cleanly', async () => {
    const app = await start();
    const link = join(clone, '.data', 'postgres');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    cluster = readlinkSync(link);
    expect(cluster).toMatch(/^\/var\/lib\/coderunner\/clusters\/[0-9a-f]{16}\/postgres$/);
    expect(existsSync(join(cluster, 'PG_VERSION'))).toBe(true);
    expect(app.output).toMatch(/running PostgreSQL from a copy in \/var\/lib\/coderunner\/postgres-/);
    expect(app.output).toContain(`the database is in ${cluster} (linked from ${link})`);

    expect((await app.request('POST', '/auth/register', user)).status).toBe(201);
    expect(processesMentioning(cluster).length).toBeGreaterThan(0);

    expect(await app.terminate()).toBe(0);
    expect(processesMentioning(cluster)).toEqual([]);
  });

  it('starts again on the same cluster', async () => {
    const app = await start();
    expect(app.output).not.toMatch(/Initialising embedded PostgreSQL/);
    expect(readlinkSync(join(clone, '.data', 'postgres'))).toBe(cluster);
    expect((await app.request('POST', '/auth/login', { username: user.username, password: user.password })).status).toBe(200);
    expect(await app.terminate()).toBe(0);
    expect(processesMentioning(cluster!)).toEqual([]);
  });
});
