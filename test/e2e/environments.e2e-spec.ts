import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Python environments and packages, end to end: /user-environments
 * (CRUD), /admin/user-environments, /conda-environments (a stand-in `conda`
 * on PATH), /environments/available and /environments/:name/{info,packages,
 * packages/install, packages/:package, packages/:package/upgrade} with real
 * venvs and real pip, installing tiny wheels this file builds itself (no
 * network: pip runs with --no-index and these find-links only).
 */

jest.setTimeout(180_000);

const PYTHON = '/usr/bin/python3';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const ENVIRONMENT_FIELDS = ['id', 'user_id', 'name', 'description', 'python_version', 'backend', 'is_public', 'status', 'created_at', 'updated_at'].sort();

type User = Awaited<ReturnType<TestApp['registerUser']>>;

/** Writes pure-Python wheels (a .whl is a zip: the module, METADATA, WHEEL, RECORD with hashes). */
function buildWheels(dir: string, wheels: [string, string][]): void {
  const script = `
import base64, hashlib, sys, zipfile, os
out = sys.argv[1]
for spec in sys.argv[2:]:
    name, version = spec.split('==')
    dist = f'{name}-{version}.dist-info'
    files = {
        f'{name}.py': f'VERSION = "{version}"\\n',
        f'{dist}/METADATA': f'Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\nSummary: test package\\n',
        f'{dist}/WHEEL': 'Wheel-Version: 1.0\\nGenerator: coderunner-tests\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
    }
    record = []
    for path, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()
        record.append(f'{path},sha256={digest},{len(data)}')
    record.append(f'{dist}/RECORD,,')
    files[f'{dist}/RECORD'] = '\\n'.join(record) + '\\n'
    with zipfile.ZipFile(os.path.join(out, f'{name}-{version}-py3-none-any.whl'), 'w') as whl:
        for path, text in files.items():
            whl.writestr(path, text)
`;
  execFileSync(PYTHON, ['-c', script, dir, ...wheels.map(([name, version]) => `${name}==${version}`)]);
}

/**
 * An extra find-links location pip fetches once per install: an empty page
 * that can hold requests until `size` are in flight (or `timeoutMs` passes),
 * which shows whether installs overlap without depending on timing.
 */
class FindLinksProbe {
  private server!: Server;
  private inFlight = 0;
  private waiting: (() => void)[] = [];
  barrier: { size: number; timeoutMs: number } | null = null;
  maxInFlight = 0;

  async start(): Promise<string> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/probe/`;
  }

  reset(barrier: { size: number; timeoutMs: number } | null): void {
    this.barrier = barrier;
    this.maxInFlight = 0;
  }

  private async handle(_request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const barrier = this.barrier;
    if (barrier) {
      if (this.inFlight >= barrier.size) this.waiting.splice(0).forEach((release) => release());
      else await new Promise<void>((release) => {
        this.waiting.push(release);
        setTimeout(release, barrier.timeoutMs).unref();
      });
    }
    this.inFlight -= 1;
    response.writeHead(200, { 'content-type': 'text/html' }).end('<html><body></body></html>');
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A `conda` that honours `env list --json` and `create -y -p <prefix> python=<v>`, and logs its argv. */
function writeCondaStandIn(dir: string, log: string): void {
  const script = `#!/bin/sh
echo "$*" >> '${log}'
case "$1" in
  env) echo '{"envs": ["/opt/conda", "/opt/conda/envs/ml-base"]}' ;;
  create)
    prefix=""
    while [ $# -gt 0 ]; do
      if [ "$1" = "-p" ]; then prefix="$2"; fi
      shift
    done
    mkdir -p "$prefix/bin" && ln -s '${PYTHON}' "$prefix/bin/python" ;;
  *) echo "unknown command $1" >&2; exit 2 ;;
esac
`;
  writeFileSync(join(dir, 'conda'), script);
  chmodSync(join(dir, 'conda'), 0o755);
}

describe('Python environments (/api/v1/user-environments, /environments)', () => {
  let app: TestApp;
  let db: Client;
  let admin: string;
  let alice: User;
  let bob: User;
  let carol: User;
  let work: string;
  let condaLog: string;
  const probe = new FindLinksProbe();
  /** alice: tools (private, crtoy 1.0.0), shared (public), second (private); bob: tools (private). */
  const env: Record<'aliceTools' | 'shared' | 'second' | 'bobTools', any> = { aliceTools: null, shared: null, second: null, bobTools: null };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'coderunner-envs-'));
    const wheels = join(work, 'wheels');
    const condaDir = join(work, 'bin');
    condaLog = join(work, 'conda.log');
    execFileSync('mkdir', ['-p', wheels, condaDir]);
    buildWheels(wheels, [['crtoy', '1.0.0'], ['crtoy', '2.0.0'], ['crother', '1.0.0'], ['crthird', '1.0.0'], ['crfourth', '1.0.0']]);
    writeCondaStandIn(condaDir, condaLog);
    const probeUrl = await probe.start();
    app = await TestApp.start({
      PYTHON_BIN: PYTHON,
      PIP_FIND_LINKS: `${wheels} ${probeUrl}`,
      PATH: `${condaDir}:/usr/local/bin:/usr/bin:/bin`,
      ENVIRONMENT_INSTALL_TIMEOUT_MS: '120000',
    });
    db = new Client({ connectionString: app.databaseUrl });
    await db.connect();
    admin = await app.adminToken();
    [alice, bob, carol] = [await app.registerUser(), await app.registerUser(), await app.registerUser()];
    expect((await app.put(`/admin/users/${alice.id}`, { level: 'enterprise' }, { token: admin })).status).toBe(200);
    alice.token = (await app.post('/auth/login', { username: alice.username, password: alice.password })).body.tokens.access;

    env.aliceTools = await create(alice.token, { name: 'tools', description: 'Tools', packages: ['crtoy==1.0.0'] });
    env.shared = await create(alice.token, { name: 'shared', is_public: true });
    env.second = await create(alice.token, { name: 'second' });
    env.bobTools = await create(bob.token, { name: 'tools' });
  });

  afterAll(async () => {
    await db?.end();
    await app?.stop();
    await probe.stop();
    rmSync(work, { recursive: true, force: true });
  });

  async function create(token: string, body: Record<string, unknown>): Promise<any> {
    const response = await app.post('/user-environments', body, { token });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  const directoryOf = (id: string) => join(app.running.config.dataDir, 'environments', id);
  const packagesOf = async (token: string, name: string) => {
    const response = await app.get(`/environments/${name}/packages`, { token });
    expect(response.status).toBe(200);
    return Object.fromEntries((response.body.packages as { name: string; version: string }[]).map((p) => [p.name, p.version]));
  };

  describe('POST /user-environments', () => {
    it('created a venv under DATA_DIR/environments/<id> with pip and the packages asked for', async () => {
      expect(Object.keys(env.aliceTools).sort()).toEqual(ENVIRONMENT_FIELDS);
      expect(env.aliceTools).toMatchObject({ user_id: alice.id, name: 'tools', description: 'Tools', backend: 'venv', is_public: false, status: 'ready' });
      expect(env.aliceTools.id).toMatch(UUID);
      expect(env.aliceTools.python_version).toMatch(/^3\.\d+\.\d+$/);
      expect(existsSync(join(directoryOf(env.aliceTools.id), 'bin', 'python'))).toBe(true);
      const packages = await packagesOf(alice.token, 'tools');
      expect(packages.crtoy).toBe('1.0.0');
      expect(packages.pip).toBeDefined();
    });

    it('lets two users use the same name, but not one user twice (409)', async () => {
      expect(env.bobTools).toMatchObject({ name: 'tools', user_id: bob.id });
      expectError(await app.post('/user-environments', { name: 'tools' }, { token: alice.token }), 409, 'CONFLICT');
    });

    it('holds non-admins to their plan (free: 1) with 403 and details.limit', async () => {
      const response = await app.post('/user-environments', { name: 'another' }, { token: bob.token });
      expectError(response, 403, 'FORBIDDEN');
      expect(response.body.error.details.limit).toBe(1);
    });

    it('turns a pip failure into 422 with pip\'s message, leaving nothing behind', async () => {
      const response = await app.post('/user-environments', { name: 'broken', packages: ['no-such-package-xyz'] }, { token: carol.token });
      expectError(response, 422, 'UNPROCESSABLE');
      expect(response.body.error.details.output).toMatch(/no-such-package-xyz/i);
      expect((await app.get('/user-environments', { token: carol.token })).body.pagination.total).toBe(0);
      const rows = await db.query('SELECT count(*)::int AS n FROM user_environments WHERE user_id = $1', [carol.id]);
      expect(rows.rows[0].n).toBe(0);
    });

    it.each([
      ['a name that is not a slug', { name: 'Bad Name' }, 'name'],
      ['the reserved name system', { name: 'system' }, 'name'],
      ['no name', { description: 'x' }, 'name'],
      ['a python_version that is not one', { name: 'ok', python_version: '2.7; rm -rf /' }, 'python_version'],
      ['an option among the packages', { name: 'ok', packages: ['-r requirements.txt'] }, 'packages'],
      ['a non-boolean is_public', { name: 'ok', is_public: 'yes' }, 'is_public'],
      ['an unknown field', { name: 'ok', path: '/etc' }, 'path'],
    ])('rejects %s (400 with field details)', async (_case, body, field) => {
      expectValidation(await app.post('/user-environments', body, { token: carol.token }), field);
    });

    it('needs credentials (401)', async () => {
      expectError(await app.post('/user-environments', { name: 'x' }), 401, 'UNAUTHORIZED');
    });

    it('audits the creation with field and package names only', async () => {
      await new Promise((r) => setTimeout(r, 300));
      const rows = await db.query(`SELECT resource_type, resource_id, metadata FROM audit_logs WHERE action = 'environment.create' AND resource_id = $1`, [env.aliceTools.id]);
      expect(rows.rows).toHaveLength(1);
      expect(rows.rows[0].resource_type).toBe('environment');
      expect(rows.rows[0].metadata.packages).toEqual(['crtoy']);
    });
  });

  describe('conda backend (stand-in conda on PATH)', () => {
    it('GET /conda-environments lists the names conda knows', async () => {
      const response = await app.get('/conda-environments', { token: bob.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ conda_available: true, environments: ['conda', 'ml-base'] });
      expect(readFileSync(condaLog, 'utf8')).toContain('env list --json');
      expectError(await app.get('/conda-environments'), 401, 'UNAUTHORIZED');
    });

    it('creates a conda environment when python_version is given, and deletes it', async () => {
      const created = await create(alice.token, { name: 'conda-env', python_version: '3.11' });
      expect(created).toMatchObject({ backend: 'conda', status: 'ready' });
      expect(created.python_version).toMatch(/^3\.11\./);
      const directory = directoryOf(created.id);
      expect(readFileSync(condaLog, 'utf8')).toContain(`create -y -p ${directory} python=3.11`);
      expect(existsSync(join(directory, 'bin', 'python'))).toBe(true);
      const info = await app.get('/environments/conda-env/info', { token: alice.token });
      expect(info.body).toMatchObject({ backend: 'conda', path: directory });
      expect((await app.delete(`/user-environments/${created.id}`, { token: alice.token })).status).toBe(200);
      expect(existsSync(directory)).toBe(false);
    });
  });

  describe('GET /user-environments and /user-environments/:id', () => {
    it('lists only my own, newest first, paginated', async () => {
      const response = await app.get('/user-environments?limit=2', { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body.pagination).toEqual({ total: 3, page: 1, limit: 2, pages: 2 });
      expect(response.body.environments.map((e: any) => e.name)).toEqual(['second', 'shared']);
      const bobs = await app.get('/user-environments', { token: bob.token });
      expect(bobs.body.environments.map((e: any) => e.id)).toEqual([env.bobTools.id]);
      expectValidation(await app.get('/user-environments?limit=500', { token: alice.token }), 'limit');
      expectError(await app.get('/user-environments'), 401, 'UNAUTHORIZED');
    });

    it('shows mine and public ones; someone else\'s private one is 404', async () => {
      expect((await app.get(`/user-environments/${env.aliceTools.id}`, { token: alice.token })).body).toMatchObject({ name: 'tools' });
      expect((await app.get(`/user-environments/${env.shared.id}`, { token: bob.token })).body).toMatchObject({ name: 'shared', is_public: true });
      expectError(await app.get(`/user-environments/${env.aliceTools.id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.get(`/user-environments/${UNKNOWN_ID}`, { token: bob.token }), 404, 'NOT_FOUND');
      expect((await app.get(`/user-environments/${env.aliceTools.id}`, { token: admin })).status).toBe(200);
      expectValidation(await app.get('/user-environments/not-a-uuid', { token: bob.token }), 'id');
      expectError(await app.get(`/user-environments/${env.aliceTools.id}`), 401, 'UNAUTHORIZED');
    });
  });

  describe('PUT /user-environments/:id', () => {
    it('changes name, description and is_public of my own', async () => {
      const response = await app.put(`/user-environments/${env.second.id}`, { description: 'Second one', is_public: false }, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ name: 'second', description: 'Second one', is_public: false });
      const renamed = await app.put(`/user-environments/${env.second.id}`, { name: 'second-renamed' }, { token: alice.token });
      expect(renamed.body.name).toBe('second-renamed');
      expect((await app.put(`/user-environments/${env.second.id}`, { name: 'second' }, { token: alice.token })).status).toBe(200);
    });

    it('answers 409 for a name I already use, 400 for bad fields, 401 without credentials', async () => {
      expectError(await app.put(`/user-environments/${env.second.id}`, { name: 'tools' }, { token: alice.token }), 409, 'CONFLICT');
      expectValidation(await app.put(`/user-environments/${env.second.id}`, { name: 'No Slug', is_public: 'no' }, { token: alice.token }), 'name', 'is_public');
      expectValidation(await app.put(`/user-environments/${env.second.id}`, { python_version: '3.12' }, { token: alice.token }), 'python_version');
      expectError(await app.put(`/user-environments/${env.second.id}`, { description: 'x' }), 401, 'UNAUTHORIZED');
    });

    it('lets others neither change a public one (403) nor see a private one (404)', async () => {
      expectError(await app.put(`/user-environments/${env.shared.id}`, { description: 'mine now' }, { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.put(`/user-environments/${env.second.id}`, { description: 'mine now' }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/user-environments/${env.shared.id}`, { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.delete(`/user-environments/${env.second.id}`, { token: bob.token }), 404, 'NOT_FOUND');
    });
  });

  describe('GET /environments/available', () => {
    const names = (body: any) => body.environments.map((e: any) => `${e.name}:${e.own}`);

    it('lists system, my own and public ones, paginated', async () => {
      const response = await app.get('/environments/available', { token: bob.token });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['environments', 'pagination']);
      expect(names(response.body)).toEqual(['system:false', 'tools:true', 'shared:false']);
      expect(response.body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
      expect(response.body.environments[0]).toEqual({ id: null, name: 'system', backend: 'system', python_version: expect.stringMatching(/^3\./), is_public: true, owner_id: null, own: false });
      expect(response.body.environments[2]).toEqual({
        id: env.shared.id, name: 'shared', backend: 'venv', python_version: env.shared.python_version, is_public: true, owner_id: alice.id, own: false,
      });
      expectError(await app.get('/environments/available'), 401, 'UNAUTHORIZED');
    });

    it('pages with page and limit; the system environment counts as the first item', async () => {
      const pages = await Promise.all([1, 2, 3].map((page) => app.get(`/environments/available?page=${page}&limit=1`, { token: bob.token })));
      expect(pages.map((page) => names(page.body))).toEqual([['system:false'], ['tools:true'], ['shared:false']]);
      expect(pages[2].body.pagination).toEqual({ total: 3, page: 3, limit: 1, pages: 3 });
      const second = await app.get('/environments/available?page=2&limit=2', { token: bob.token });
      expect(names(second.body)).toEqual(['shared:false']);
      expect(second.body.pagination).toEqual({ total: 3, page: 2, limit: 2, pages: 2 });
      expect((await app.get('/environments/available?page=3&limit=2', { token: bob.token })).body.environments).toEqual([]);
      expectValidation(await app.get('/environments/available?limit=101', { token: bob.token }), 'limit');
      expectValidation(await app.get('/environments/available?page=0', { token: bob.token }), 'page');
    });
  });

  describe('GET /environments/:name/info', () => {
    it('tells python version, path, size, package count and owner', async () => {
      const response = await app.get('/environments/tools/info', { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: env.aliceTools.id, name: 'tools', backend: 'venv', path: directoryOf(env.aliceTools.id), owner: { id: alice.id, username: alice.username },
        is_public: false, read_only: false,
      });
      expect(response.body.python_version).toMatch(/^3\.\d+\.\d+$/);
      expect(response.body.size_bytes).toBeGreaterThan(100_000);
      expect(response.body.package_count).toBeGreaterThanOrEqual(2);
    });

    it('resolves my own first, then a public one; the system one is read-only', async () => {
      expect((await app.get('/environments/tools/info', { token: bob.token })).body.id).toBe(env.bobTools.id);
      const shared = await app.get('/environments/shared/info', { token: bob.token });
      expect(shared.body).toMatchObject({ id: env.shared.id, read_only: true, owner: { id: alice.id, username: alice.username } });
      const system = await app.get('/environments/system/info', { token: bob.token });
      expect(system.body).toMatchObject({ id: null, name: 'system', backend: 'system', path: PYTHON, owner: null, size_bytes: null, read_only: true });
    });

    it('answers 404 for another user\'s private one, 400 for a bad name, 401 without credentials', async () => {
      expectError(await app.get('/environments/second/info', { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.get('/environments/nothing-here/info', { token: bob.token }), 404, 'NOT_FOUND');
      expectValidation(await app.get('/environments/Bad_Name/info', { token: bob.token }), 'name');
      expectError(await app.get('/environments/tools/info'), 401, 'UNAUTHORIZED');
    });
  });

  describe('GET /environments/:name/packages', () => {
    it('lists packages of mine, public and system environments', async () => {
      expect((await packagesOf(bob.token, 'shared')).pip).toBeDefined();
      expect(Object.keys(await packagesOf(bob.token, 'system')).length).toBeGreaterThan(0);
      expectError(await app.get('/environments/second/packages', { token: bob.token }), 404, 'NOT_FOUND');
      expectValidation(await app.get('/environments/-r/packages', { token: bob.token }), 'name');
      expectError(await app.get('/environments/system/packages'), 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /environments/:name/packages/install', () => {
    it.each([['-r x'], ['--index-url=http://127.0.0.1:1/simple'], ['git+https://example.com/p.git'], ['./pkg'], ['/tmp/x'], ['pkg @ https://example.com/p.whl'], ['']])(
      'rejects %j (400, never reaches pip)',
      async (requirement) => {
        expectValidation(await app.post('/environments/tools/packages/install', { packages: [requirement] }, { token: alice.token }), 'packages');
      },
    );

    it.each([['name'], ['name==1.0'], ['name>=1,<2'], ['Name_With-Dots.x[extra]==1.0']])('accepts %j as a requirement (it reaches pip)', async (requirement) => {
      const response = await app.post('/environments/tools/packages/install', { packages: [requirement] }, { token: alice.token });
      // Validation passed: pip ran and found no such package in the local wheels.
      expectError(response, 422, 'UNPROCESSABLE');
    });

    it('rejects an empty list and a missing body (400)', async () => {
      expectValidation(await app.post('/environments/tools/packages/install', { packages: [] }, { token: alice.token }), 'packages');
      expectValidation(await app.post('/environments/tools/packages/install', {}, { token: alice.token }), 'packages');
    });

    it('installs from the local wheels and audits package names only', async () => {
      const response = await app.post('/environments/tools/packages/install', { packages: ['crother==1.0.0'] }, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ environment_id: env.aliceTools.id, installed: ['crother==1.0.0'] });
      expect(response.body.packages).toEqual(expect.arrayContaining([{ name: 'crother', version: '1.0.0' }, { name: 'crtoy', version: '1.0.0' }]));
      const imported = execFileSync(join(directoryOf(env.aliceTools.id), 'bin', 'python'), ['-c', 'import crother; print(crother.VERSION)']).toString().trim();
      expect(imported).toBe('1.0.0');
      await new Promise((r) => setTimeout(r, 300));
      const rows = await db.query(`SELECT resource_type, resource_id, metadata FROM audit_logs WHERE action = 'package.install' AND status_code = 200`);
      expect(rows.rows).toEqual([{ resource_type: 'environment', resource_id: env.aliceTools.id, metadata: expect.objectContaining({ packages: ['crother'] }) }]);
    });

    it('turns a missing package into 422 with pip\'s message in details', async () => {
      const response = await app.post('/environments/tools/packages/install', { packages: ['crtoy==9.9.9'] }, { token: alice.token });
      expectError(response, 422, 'UNPROCESSABLE');
      expect(response.body.error.message).toMatch(/crtoy/);
      expect(response.body.error.details.output).toMatch(/No matching distribution found for crtoy==9\.9\.9/);
    });

    it('refuses the system environment (403), others\' public ones (403) and private ones (404)', async () => {
      expectError(await app.post('/environments/system/packages/install', { packages: ['crtoy'] }, { token: admin }), 403, 'FORBIDDEN');
      expectError(await app.post('/environments/shared/packages/install', { packages: ['crtoy'] }, { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.post('/environments/second/packages/install', { packages: ['crtoy'] }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.post('/environments/tools/packages/install', { packages: ['crtoy'] }), 401, 'UNAUTHORIZED');
    });

    it('runs two installs into one environment one after the other; both succeed', async () => {
      probe.reset({ size: 2, timeoutMs: 3000 });
      const [a, b] = await Promise.all([
        app.post('/environments/second/packages/install', { packages: ['crthird==1.0.0'] }, { token: alice.token }),
        app.post('/environments/second/packages/install', { packages: ['crfourth==1.0.0'] }, { token: alice.token }),
      ]);
      const observed = probe.maxInFlight;
      probe.reset(null);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(observed).toBe(1);
      const packages = await packagesOf(alice.token, 'second');
      expect(packages).toMatchObject({ crthird: '1.0.0', crfourth: '1.0.0' });
    });

    it('runs installs into two environments at once', async () => {
      // The probe holds each pip's request until both have arrived: only parallel runs can meet there.
      probe.reset({ size: 2, timeoutMs: 12_000 });
      const [a, b] = await Promise.all([
        app.post('/environments/shared/packages/install', { packages: ['crthird==1.0.0'] }, { token: alice.token }),
        app.post('/environments/tools/packages/install', { packages: ['crthird==1.0.0'] }, { token: alice.token }),
      ]);
      const observed = probe.maxInFlight;
      probe.reset(null);
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(observed).toBe(2);
    });
  });

  describe('POST /execute with environment_id (ResolveEnvironmentQuery)', () => {
    const code = 'import crother; print(crother.VERSION)';

    it('imports a package installed in the environment there, and not in the system one', async () => {
      const inEnvironment = await app.post('/execute', { code, environment_id: env.aliceTools.id }, { token: alice.token });
      expect(inEnvironment.status).toBe(200);
      expect(inEnvironment.body).toMatchObject({ exit_code: 0, stdout: '1.0.0\n' });
      const inSystem = await app.post('/execute', { code }, { token: alice.token });
      expect(inSystem.status).toBe(200);
      expect(inSystem.body.exit_code).not.toBe(0);
      expect(inSystem.body.stderr).toContain('ModuleNotFoundError');
    });

    it('lets others run with a public environment but not a private one (404)', async () => {
      expect((await app.post('/execute', { code: 'print(1)', environment_id: env.shared.id }, { token: bob.token })).status).toBe(200);
      expectError(await app.post('/execute', { code: 'print(1)', environment_id: env.aliceTools.id }, { token: bob.token }), 404, 'NOT_FOUND');
    });
  });

  describe('PUT /environments/:name/packages/:package/upgrade', () => {
    it('upgrades to the newest local wheel', async () => {
      const response = await app.put('/environments/tools/packages/crtoy/upgrade', undefined, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ environment_id: env.aliceTools.id, name: 'crtoy', previous_version: '1.0.0', version: '2.0.0' });
      expect((await packagesOf(alice.token, 'tools')).crtoy).toBe('2.0.0');
    });

    it('answers 404 for a package not installed, 400 for a bad name, 403/404 for others, 401 without credentials', async () => {
      expectError(await app.put('/environments/tools/packages/crnothing/upgrade', undefined, { token: alice.token }), 404, 'NOT_FOUND');
      expectValidation(await app.put('/environments/tools/packages/--pre/upgrade', undefined, { token: alice.token }), 'package');
      expectError(await app.put('/environments/shared/packages/pip/upgrade', undefined, { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.put('/environments/second/packages/pip/upgrade', undefined, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.put('/environments/system/packages/pip/upgrade', undefined, { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.put('/environments/tools/packages/crtoy/upgrade'), 401, 'UNAUTHORIZED');
    });
  });

  describe('DELETE /environments/:name/packages/:package', () => {
    it('uninstalls, then answers 404 for it', async () => {
      const response = await app.delete('/environments/tools/packages/crtoy', { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ environment_id: env.aliceTools.id, name: 'crtoy', success: true });
      expect((await packagesOf(alice.token, 'tools')).crtoy).toBeUndefined();
      expectError(await app.delete('/environments/tools/packages/crtoy', { token: alice.token }), 404, 'NOT_FOUND');
      await new Promise((r) => setTimeout(r, 300));
      const rows = await db.query(`SELECT metadata FROM audit_logs WHERE action = 'package.uninstall' AND status_code = 200`);
      expect(rows.rows).toEqual([{ metadata: expect.objectContaining({ package: 'crtoy' }) }]);
    });

    it('answers 400 for a bad name, 403/404 for others, 401 without credentials', async () => {
      expectValidation(await app.delete('/environments/tools/packages/-y', { token: alice.token }), 'package');
      expectError(await app.delete('/environments/shared/packages/pip', { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.delete('/environments/second/packages/pip', { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete('/environments/system/packages/pip', { token: admin }), 403, 'FORBIDDEN');
      expectError(await app.delete('/environments/tools/packages/pip'), 401, 'UNAUTHORIZED');
    });

    it('lets an admin change a user\'s public environment', async () => {
      const response = await app.delete('/environments/shared/packages/crthird', { token: admin });
      expect(response.status).toBe(200);
    });
  });

  describe('admin', () => {
    it('GET /admin/user-environments lists everyone\'s, filtered by user_id', async () => {
      const all = await app.get('/admin/user-environments', { token: admin });
      expect(all.status).toBe(200);
      expect(all.body.pagination.total).toBe(4);
      const bobs = await app.get(`/admin/user-environments?user_id=${bob.id}`, { token: admin });
      expect(bobs.body.environments.map((e: any) => e.id)).toEqual([env.bobTools.id]);
      expectValidation(await app.get('/admin/user-environments?user_id=nope', { token: admin }), 'user_id');
      expectError(await app.get('/admin/user-environments', { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.get('/admin/user-environments'), 401, 'UNAUTHORIZED');
    });

    it('DELETE /admin/user-environments/:id deletes anyone\'s, with its directory', async () => {
      expectError(await app.delete(`/admin/user-environments/${env.bobTools.id}`, { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.delete(`/admin/user-environments/${env.bobTools.id}`), 401, 'UNAUTHORIZED');
      expectValidation(await app.delete('/admin/user-environments/nope', { token: admin }), 'id');
      expect(existsSync(directoryOf(env.bobTools.id))).toBe(true);
      const response = await app.delete(`/admin/user-environments/${env.bobTools.id}`, { token: admin });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });
      expect(existsSync(directoryOf(env.bobTools.id))).toBe(false);
      expectError(await app.delete(`/admin/user-environments/${env.bobTools.id}`, { token: admin }), 404, 'NOT_FOUND');
      // Bob's slot is free again.
      expect((await app.get('/user-environments', { token: bob.token })).body.pagination.total).toBe(0);
    });
  });

  describe('DELETE /user-environments/:id', () => {
    it('deletes my own and its directory; then 404', async () => {
      expectValidation(await app.delete('/user-environments/nope', { token: alice.token }), 'id');
      expectError(await app.delete(`/user-environments/${env.second.id}`), 401, 'UNAUTHORIZED');
      const directory = directoryOf(env.second.id);
      expect(existsSync(directory)).toBe(true);
      const response = await app.delete(`/user-environments/${env.second.id}`, { token: alice.token });
      expect(response.status).toBe(200);
      expect(existsSync(directory)).toBe(false);
      expectError(await app.delete(`/user-environments/${env.second.id}`, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.get('/environments/second/info', { token: alice.token }), 404, 'NOT_FOUND');
    });
  });
});
