import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';
import { execSync, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import WebSocket from 'ws';
import { canConnect } from '../support/net';
import { WsClient } from '../support/ws-client';
import { WS_ECHO_APP } from '../support/deployed-apps';

/**
 * Deployments end to end: real apps (Node, Python, a manifest with a build
 * step) deployed through the API, started in their sandboxes, reached through
 * /d/<id>/; apps that crash, never answer, or exit after a while; stop,
 * restart, delete, versions, private deployments, the deployment channel, and
 * the platform bringing apps back after a restart.
 */

jest.setTimeout(120_000);

type User = Awaited<ReturnType<TestApp['registerUser']>>;

/** A user on the enterprise plan: many deployments a day, 50 running. */
async function enterpriseUser(app: TestApp): Promise<User> {
  const user = await app.registerUser();
  const upgraded = await app.put(`/admin/users/${user.id}`, { level: 'enterprise' }, { token: await app.adminToken() });
  if (upgraded.status !== 200) throw new Error(`upgrade failed: ${upgraded.status}`);
  return user;
}

const NODE_APP = `
const http = require('http');
http.createServer((req, res) => {
  if (req.url.startsWith('/echo')) { res.setHeader('content-type', req.headers['content-type'] || 'text/plain'); req.pipe(res); return; }
  if (req.url === '/headers') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(req.headers)); return; }
  if (req.url === '/boom') { res.statusCode = 500; res.end('boom'); return; }
  res.end('hello ' + req.method + ' ' + req.url + ' ' + (process.env.GREETING || ''));
}).listen(process.env.PORT, () => console.log('listening on ' + process.env.PORT));
`;


describe('Deployments', () => {
  let app: TestApp;
  let user: User;
  let other: User;

  beforeAll(async () => {
    app = await TestApp.start({ DEPLOY_HEALTH_TIMEOUT_MS: '3000', DEPLOY_MAX_CRASHES: '3', DEPLOY_CRASH_WINDOW_MS: '60000' });
    [user, other] = [await enterpriseUser(app), await app.registerUser()];
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function deploy(body: Record<string, unknown>, token = user.token): Promise<string> {
    const response = await app.post('/deployments', body, { token });
    if (response.status !== 201) throw new Error(`deploy failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.deployment.id;
  }

  /** Polls the deployment until its status is one of these; its last state. */
  async function settle(id: string, statuses: string[], timeoutMs = 20_000, token = user.token): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { body } = await app.get(`/deployments/${id}`, { token });
      if (statuses.includes(body.deployment?.status)) return body.deployment;
      if (Date.now() > deadline) throw new Error(`still ${body.deployment?.status} (${body.deployment?.error}) after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  const proxied = (id: string, path = '/', init: RequestInit = {}) => fetch(`${app.url}/d/${id}${path}`, init);

  it('deploys a Node app and proxies to it: method, path and query, bodies both ways, X-Forwarded-*, 5xx passed on', async () => {
    const created = await app.post('/deployments', { name: 'hello', files: [{ path: 'server.js', content: NODE_APP }], config: { env_vars: { GREETING: 'friend' } } }, { token: user.token });
    expect(created.status).toBe(201);
    const { id } = created.body.deployment;
    expect(created.body.deployment).toMatchObject({ name: 'hello', runtime: 'nodejs', status: 'pending', version: 1, endpoint: `/d/${id}/` });
    expect((await settle(id, ['running', 'failed'])).status).toBe('running');

    const hello = await proxied(id, '/greet?x=1');
    expect(await hello.text()).toBe('hello GET /greet?x=1 friend');
    // The path as sent: an escaped character stays escaped, the query goes along, an upper-case id is the same deployment.
    expect(await (await fetch(`${app.url}/d/${id.toUpperCase()}/a%20b/c?q=%2F`)).text()).toBe('hello GET /a%20b/c?q=%2F friend');
    const big = 'z'.repeat(3 * 1024 * 1024);
    const echoed = await proxied(id, '/echo', { method: 'POST', body: big, headers: { 'content-type': 'application/octet-stream' } });
    expect(echoed.status).toBe(200);
    expect((await echoed.text()).length).toBe(big.length);
    const headers = (await (await proxied(id, '/headers', { headers: { authorization: 'Bearer app-own-token' } })).json()) as Record<string, string>;
    expect(headers).toMatchObject({ 'x-forwarded-prefix': `/d/${id}`, 'x-forwarded-proto': 'http', authorization: 'Bearer app-own-token' });
    expect(headers['x-forwarded-for']).toBeTruthy();
    expect((await proxied(id, '/boom')).status).toBe(500);
    // The bare prefix reaches the app's root.
    expect(await (await proxied(id, '')).text()).toBe('hello GET / friend');

    // Its output and the platform's events are stored (batched: polled until there).
    let logs: Array<{ source: string; level: string; message: string }> = [];
    for (let i = 0; i < 50 && !logs.some((line) => line.message === 'status: running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      logs = (await app.get(`/deployments/${id}/logs`, { token: user.token })).body.logs;
    }
    expect(logs).toContainEqual(expect.objectContaining({ source: 'stdout', level: 'info', message: 'listening on 8080' }));
    expect(logs).toContainEqual(expect.objectContaining({ source: 'platform', message: 'status: running' }));
    expect(logs.findIndex((line) => line.message === 'status: running')).toBeLessThan(logs.findIndex((line) => line.message === 'status: starting'));
    expectError(await app.get(`/deployments/${id}/logs`, { token: other.token }), 404, 'NOT_FOUND');
    expectValidation(await app.get(`/deployments/${id}/logs?limit=5000`, { token: user.token }), 'limit');

    const versions = await app.get(`/deployments/${id}/versions`, { token: user.token });
    expect(versions.body.versions).toEqual([
      expect.objectContaining({ version_number: 1, start_command: 'node server.js', port: 8080, env_vars: ['GREETING'], current: true, files: [{ path: 'server.js', size: Buffer.byteLength(NODE_APP) }] }),
    ]);
    // The variable's value is stored sealed.
    const stored = (await app.query('SELECT env_vars_sealed FROM deployment_versions WHERE deployment_id = $1', [id])).rows[0].env_vars_sealed;
    expect(stored).not.toContain('friend');
  });

  it('deploys a Python app and a manifest app with a build step', async () => {
    const python = await deploy({ name: 'py', files: [{ path: 'app.py', content: 'import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(b"from python")\nhttp.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()\n' }] });
    const manifest = await deploy({
      name: 'built',
      files: [
        { path: 'coderunner.json', content: JSON.stringify({ build_command: 'mkdir -p out && echo built-at-build > out/page.txt', start_command: 'python3 -m http.server "$PORT" --bind 127.0.0.1 --directory out', port: 9000 }) },
        { path: 'readme.txt', content: 'manifest app' },
      ],
    });
    expect((await settle(python, ['running', 'failed'])).status).toBe('running');
    expect(await (await proxied(python, '/')).text()).toBe('from python');
    const built = await settle(manifest, ['running', 'failed']);
    expect([built.status, built.error]).toEqual(['running', null]);
    expect(await (await proxied(manifest, '/page.txt')).text()).toBe('built-at-build\n');
    expect((await app.get(`/deployments/${manifest}`, { token: user.token })).body.deployment.runtime).toBe('manifest');
  });

  it('fails an app that crashes at start, one that never answers its health check, and one whose build fails — with the reason', async () => {
    const crash = await deploy({ name: 'crash', files: [{ path: 'index.js', content: 'console.error("missing DATABASE_URL"); process.exit(2);' }] });
    const silent = await deploy({ name: 'silent', files: [{ path: 'index.js', content: 'setInterval(() => {}, 1000);' }] });
    const badBuild = await deploy({ name: 'bad-build', files: [{ path: 'index.js', content: 'require("http").createServer((q, s) => s.end()).listen(process.env.PORT)' }], config: { build_command: 'exit 7' } });
    expect(await settle(crash, ['failed'])).toMatchObject({ status: 'failed', error: expect.stringContaining('exited (code 2)') });
    expect(await settle(silent, ['failed'])).toMatchObject({ status: 'failed', error: expect.stringContaining('did not answer GET / within 3 s') });
    expect(await settle(badBuild, ['failed'])).toMatchObject({ status: 'failed', error: 'the build failed (exit code 7)' });
    expect((await proxied(crash, '/')).status).toBe(503);
  });

  it('restarts an app that exits after a while, with backoff, and fails it after too many crashes', async () => {
    const id = await deploy({ name: 'flaky', files: [{ path: 'index.js', content: 'require("http").createServer((q, s) => s.end("up")).listen(process.env.PORT); setTimeout(() => process.exit(1), 400);' }] });
    await settle(id, ['running']);
    const restarting = await settle(id, ['restarting'], 10_000);
    expect(restarting.error).toMatch(/exited \(code 1\); starting it again in 1 s/);
    await settle(id, ['running'], 10_000);
    const failed = await settle(id, ['failed'], 30_000);
    expect(failed.error).toMatch(/exited \(code 1\) 3 times/);
  });

  it('stops (409 when stopped), answers 503 while stopped, restarts, deletes; someone else\'s is 404; publishes updates', async () => {
    const id = await deploy({ name: 'lifecycle', files: [{ path: 'server.js', content: NODE_APP }] });
    const socket = WsClient.connect(app.url, `/api/v1/deployments/${id}/logs/stream?token=${user.token}`);
    try {
      await socket.nextOfType('subscribed', `deployment:${id}`);
      await settle(id, ['running']);
      expectError(await app.post(`/deployments/${id}/stop`, undefined, { token: other.token }), 404, 'NOT_FOUND');
      expectError(await app.get(`/deployments/${id}`, { token: other.token }), 404, 'NOT_FOUND');

      const stopped = await app.post(`/deployments/${id}/stop`, undefined, { token: user.token });
      expect(stopped.status).toBe(200);
      expect(stopped.body.deployment.status).toBe('stopped');
      expectError(await app.post(`/deployments/${id}/stop`, undefined, { token: user.token }), 409, 'CONFLICT');
      const page = await proxied(id, '/');
      expect(page.status).toBe(503);
      expect(await page.text()).toContain('This deployment is stopped');

      const restarted = await app.post(`/deployments/${id}/restart`, undefined, { token: user.token });
      expect([restarted.status, restarted.body.deployment?.status]).toEqual([200, 'restarting']);
      await settle(id, ['running']);
      expect((await proxied(id, '/')).status).toBe(200);

      const statuses = socket.received.filter((m) => m.type === 'update').map((m) => m.payload.status);
      expect(statuses).toEqual(expect.arrayContaining(['starting', 'running', 'stopping', 'stopped', 'restarting']));
      expect(statuses.slice(statuses.indexOf('stopped'))).toEqual(['stopped', 'restarting', 'starting', 'running']);
      expect(socket.received.some((m) => m.type === 'log' && m.payload.source === 'stdout' && m.payload.message === 'listening on 8080')).toBe(true);
      const notes = (await app.get('/notifications', { token: user.token })).body.notifications;
      expect(notes.some((n: { type: string; data: { deployment_id: string; status: string } }) => n.type === 'deployment_status' && n.data.deployment_id === id && n.data.status === 'stopped')).toBe(true);

      expect((await app.delete(`/deployments/${id}`, { token: user.token })).body).toEqual({ success: true });
      expectError(await app.get(`/deployments/${id}`, { token: user.token }), 404, 'NOT_FOUND');
      expect((await proxied(id, '/')).status).toBe(404);
    } finally {
      socket.close();
    }
  });

  it('puts a change in place without downtime, keeps the old version when the new one fails, and rolls back', async () => {
    const version = (n: number) => `require('http').createServer((q, s) => s.end('v${n} ' + (process.env.GREETING || ''))).listen(process.env.PORT);`;
    const id = await deploy({ name: 'zero', files: [{ path: 'server.js', content: version(1) }], config: { env_vars: { GREETING: 'one' } } });
    await settle(id, ['running']);
    // Requests flow during the switch: every one is answered, by v1 then by v2.
    const answers: string[] = [];
    let flowing = true;
    const flow = (async () => {
      while (flowing) {
        const response = await proxied(id, '/');
        answers.push(`${response.status} ${await response.text()}`);
      }
    })();
    const changed = await app.patch(`/deployments/${id}`, { files: [{ path: 'server.js', content: version(2) }] }, { token: user.token });
    expect(changed.status).toBe(200);
    for (let i = 0; i < 100 && (await app.get(`/deployments/${id}`, { token: user.token })).body.deployment.version !== 2; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 300));
    flowing = false;
    await flow;
    expect(answers.filter((answer) => !answer.startsWith('200 '))).toEqual([]);
    expect(answers[0]).toBe('200 v1 one');
    expect(answers[answers.length - 1]).toBe('200 v2 one');
    expect((await app.get(`/deployments/${id}`, { token: user.token })).body.deployment).toMatchObject({ status: 'running', version: 2, error: null });

    // A version that never answers: v2 serves on, the error says why.
    await app.patch(`/deployments/${id}`, { files: [{ path: 'server.js', content: 'setInterval(() => {}, 1000)' }] }, { token: user.token });
    let state: any;
    for (let i = 0; i < 100; i++) {
      state = (await app.get(`/deployments/${id}`, { token: user.token })).body.deployment;
      if (state.error) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(state).toMatchObject({ status: 'running', version: 2, error: expect.stringMatching(/^version 3 failed: .*version 2 serves on$/) });
    expect(await (await proxied(id, '/')).text()).toBe('v2 one');

    // Config only: a new version with the new variable, the files kept.
    await app.patch(`/deployments/${id}`, { config: { env_vars: { GREETING: 'four' } } }, { token: user.token });
    for (let i = 0; i < 100 && (await (await proxied(id, '/')).text()) !== 'v2 four'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await (await proxied(id, '/')).text()).toBe('v2 four');

    // Rollback to 1: version 5, with version 1's files and variables.
    const rolled = await app.post(`/deployments/${id}/rollback`, { version_number: 1 }, { token: user.token });
    expect(rolled.status).toBe(200);
    for (let i = 0; i < 100 && (await (await proxied(id, '/')).text()) !== 'v1 one'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await (await proxied(id, '/')).text()).toBe('v1 one');
    const versions = (await app.get(`/deployments/${id}/versions`, { token: user.token })).body.versions;
    expect(versions.map((v: { version_number: number; current: boolean }) => [v.version_number, v.current])).toEqual([[5, true], [4, false], [3, false], [2, false], [1, false]]);
    expectError(await app.post(`/deployments/${id}/rollback`, { version_number: 99 }, { token: user.token }), 404, 'NOT_FOUND');
    expectValidation(await app.post(`/deployments/${id}/rollback`, { version_number: 0 }, { token: user.token }), 'version_number');
    expectError(await app.patch(`/deployments/${id}`, { name: 'x' }, { token: other.token }), 404, 'NOT_FOUND');
    expect((await app.patch(`/deployments/${id}`, { name: 'renamed' }, { token: user.token })).body.deployment.name).toBe('renamed');
  });

  it('proxies WebSocket upgrades: a WebSocket echo app through /d/<id>/', async () => {
    const id = await deploy({ name: 'ws-echo', files: [{ path: 'server.js', content: WS_ECHO_APP }] });
    await settle(id, ['running']);
    const socket = new WebSocket(`${app.url.replace(/^http/, 'ws')}/d/${id}/socket?x=1`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const answer = new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));
    socket.send('hello');
    expect(await answer).toBe(`echo /socket?x=1 http ${new URL(app.url).host} hello`);
    socket.close();
    // A deployment that is not running refuses the upgrade.
    const missing = WsClient.connect(app.url, '/d/00000000-0000-4000-8000-000000000000/socket');
    await missing.closed;
    expect(missing.refusedWith).toBe(503);
  });

  it('answers a private deployment only to its owner, without passing the token on', async () => {
    const id = await deploy({ name: 'private', files: [{ path: 'server.js', content: NODE_APP }], config: { private: true } });
    await settle(id, ['running']);
    expect((await proxied(id, '/')).status).toBe(401);
    expect((await proxied(id, '/', { headers: { authorization: `Bearer ${other.token}` } })).status).toBe(404);
    const mine = await proxied(id, '/headers', { headers: { authorization: `Bearer ${user.token}` } });
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as Record<string, string>).authorization).toBeUndefined();
  });

  it('holds a free user to the plan: one running deployment, new ones per day', async () => {
    const free = await app.registerUser();
    const admin = await app.adminToken();
    const files = [{ path: 'server.js', content: NODE_APP }];
    const first = await deploy({ name: 'one', files }, free.token);
    const refused = await app.post('/deployments', { name: 'two', files }, { token: free.token });
    expectError(refused, 403, 'FORBIDDEN');
    expect(refused.body.error.details).toEqual({ limit: 1, running: 1 });
    await settle(first, ['running'], 20_000, free.token);
    await app.post(`/deployments/${first}/stop`, undefined, { token: free.token });
    const second = await deploy({ name: 'two', files }, free.token);
    expectError(await app.post(`/deployments/${first}/restart`, undefined, { token: free.token }), 403, 'FORBIDDEN');
    await settle(second, ['running'], 20_000, free.token);
    await app.post(`/deployments/${second}/stop`, undefined, { token: free.token });
    try {
      expect((await app.put('/admin/plans/free', { deployments_per_day: 2 }, { token: admin })).status).toBe(200);
      const perDay = await app.post('/deployments', { name: 'three', files }, { token: free.token });
      expectError(perDay, 429, 'QUOTA_EXCEEDED');
      expect(perDay.body.error.details).toEqual({ limit: 2, used: 2, window: 'day' });
    } finally {
      await app.put('/admin/plans/free', { deployments_per_day: 10 }, { token: admin });
    }
    for (const id of [first, second]) await app.delete(`/deployments/${id}`, { token: free.token });
  });

  it('runs each app on a host uid of its own, within its plan\'s memory: an app that takes more is killed and says so', async () => {
    const admin = await app.adminToken();
    const premium = await app.registerUser();
    expect((await app.put(`/admin/users/${premium.id}`, { level: 'premium' }, { token: admin })).status).toBe(200);
    const HOG = `
const http = require('http');
const held = [];
http.createServer((req, res) => {
  if (req.url === '/hog') { for (let i = 0; i < 40; i++) held.push(Buffer.alloc(8 * 1024 * 1024, 1)); res.end('held ' + held.length); return; }
  res.end('ok');
}).listen(process.env.PORT);
`;
    try {
      expect((await app.put('/admin/plans/premium', { deployment_memory_mb: 96 }, { token: admin })).status).toBe(200);
      const [a, b] = [await deploy({ name: 'hog', files: [{ path: 'server.js', content: HOG }] }, premium.token), await deploy({ name: 'calm', files: [{ path: 'server.js', content: NODE_APP }] }, premium.token)];
      await settle(a, ['running'], 20_000, premium.token);
      await settle(b, ['running'], 20_000, premium.token);
      const { body } = await app.get('/admin/sandboxes', { token: admin });
      const mine = body.sandboxes.filter((sandbox: any) => [a, b].includes(sandbox.deployment_id));
      expect(mine).toHaveLength(2);
      if (process.getuid?.() === 0) {
        // Each on a uid of its own from DEPLOY_UID_BASE, limited to the plan's memory.
        expect(mine[0].uid).not.toBe(mine[1].uid);
        for (const sandbox of mine) {
          expect(sandbox.uid).toBeGreaterThanOrEqual(64_000);
          expect(sandbox.memory_limit_bytes).toBe(96 * 1024 * 1024);
          const status = readFileSync(`/proc/${sandbox.pid}/status`, 'utf8');
          expect(status).toMatch(new RegExp(`^Uid:\\s+${sandbox.uid}\\s`, 'm'));
          // In the apps' memory cgroup, and their CPU one (the same on cgroup v2).
          const cgroups = readFileSync(`/proc/${sandbox.pid}/cgroup`, 'utf8');
          expect(cgroups).toMatch(/memory:\/coderunner-apps\/|^0::.*\/coderunner-apps\//m);
          expect(cgroups).toMatch(/cpu[^:]*:\/coderunner-apps\/|^0::.*\/coderunner-apps\//m);
        }
        // 320 MB asked for, 96 MB allowed: the kernel kills it, the deployment restarts it and says why.
        await proxied(a, '/hog').catch(() => undefined);
        const restarting = await settle(a, ['restarting', 'failed'], 20_000, premium.token);
        expect(restarting.error).toContain('out of memory');
        expect(await (await proxied(b, '/')).text()).toContain('hello');
      } else {
        // Not root: apps share the service's uid, without cgroups (said in the README).
        for (const sandbox of mine) expect(sandbox).toMatchObject({ uid: null, memory_limit_bytes: null });
      }
      for (const id of [a, b]) await app.delete(`/deployments/${id}`, { token: premium.token });
    } finally {
      await app.put('/admin/plans/premium', { deployment_memory_mb: 1024 }, { token: admin });
    }
  });

  it('reconciles every minute: starts what is recorded running but does not run, stops apps of deleted deployments, finishes stops left half-done, removes leftover directories', async () => {
    const admin = await app.adminToken();
    const reconcile = async () => {
      const run = await app.post('/admin/maintenance/jobs/deployments.reconcile/run', undefined, { token: admin });
      expect(run.body).toMatchObject({ job_name: 'deployments.reconcile', status: 'succeeded' });
      return run.body.output;
    };
    const files = [{ path: 'server.js', content: NODE_APP }];
    // Recorded as running by a replica that lost it: here, stopped and then marked so behind the platform's back.
    const lost = await deploy({ name: 'lost', files });
    await settle(lost, ['running']);
    expect((await app.post(`/deployments/${lost}/stop`, undefined, { token: user.token })).status).toBe(200);
    await app.query(`UPDATE deployments SET status = 'running', desired_state = 'running' WHERE id = $1`, [lost]);
    // Deleted behind the platform's back while its app runs.
    const gone = await deploy({ name: 'gone', files });
    await settle(gone, ['running']);
    await app.query(`DELETE FROM deployments WHERE id = $1`, [gone]);
    // Asked to stop, but the replica running it went away before it finished (its lease is gone).
    const halfStopped = await deploy({ name: 'half-stopped', files });
    await settle(halfStopped, ['running']);
    await app.query(`UPDATE deployments SET desired_state = 'stopped' WHERE id = $1`, [halfStopped]);
    await app.query(`DELETE FROM deployment_leases WHERE deployment_id = $1`, [halfStopped]);
    // Directories without a deployment: an old one goes, a young one (a create in progress) stays.
    const old = join(app.dataDir, 'deployments', randomUUID());
    const young = join(app.dataDir, 'deployments', randomUUID());
    for (const dir of [old, young]) mkdirSync(join(dir, 'v1'), { recursive: true });
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(old, hourAgo, hourAgo);

    const output = await reconcile();
    expect(output).toMatchObject({ brought_back: 1, settled_stops: 1 });
    // The deleted deployment's app and files: by the reconciliation, or before it by the lease renewal (its lease went with it).
    expect(output.stopped_orphans).toBeLessThanOrEqual(1);
    expect((await app.get(`/deployments/${halfStopped}`, { token: user.token })).body.deployment.status).toBe('stopped');
    expect((await proxied(halfStopped, '/')).status).toBe(503);
    expect(output.removed_directories).toBeGreaterThanOrEqual(1); // the old one (and the deleted deployment's, unless gone already)
    expect(existsSync(old)).toBe(false);
    expect(existsSync(young)).toBe(true);
    expect(existsSync(join(app.dataDir, 'deployments', gone))).toBe(false);
    expect((await proxied(gone, '/')).status).toBe(404);
    await settle(lost, ['running']);
    expect(await (await proxied(lost, '/')).text()).toContain('hello');
    // Nothing left to do the second time.
    expect(await reconcile()).toEqual({ brought_back: 0, stopped_orphans: 0, removed_directories: 0, settled_stops: 0 });
    await app.delete(`/deployments/${halfStopped}`, { token: user.token });
    await app.delete(`/deployments/${lost}`, { token: user.token });
  });

  it('keeps each version\'s files in the blob store: a new version is made from them (not from what the app changed), a lost directory is written again, a delete lets them go', async () => {
    const marker = `original ${randomUUID()}`;
    const WRITER = `
const fs = require('fs');
require('http').createServer((req, res) => {
  if (req.url === '/write') fs.writeFileSync('data.txt', 'changed by the app');
  res.end(fs.readFileSync('data.txt', 'utf8') + ' ' + (process.env.ROUND || ''));
}).listen(process.env.PORT);
`;
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    const refCount = async (text: string) => (await app.query(`SELECT ref_count FROM blobs WHERE hash = $1`, [sha(text)])).rows[0]?.ref_count ?? null;
    const id = await deploy({ name: 'blobs', files: [{ path: 'server.js', content: WRITER }, { path: 'data.txt', content: marker }] });
    await settle(id, ['running']);
    expect(await refCount(marker)).toBe(1);
    const versions = (await app.get(`/deployments/${id}/versions`, { token: user.token })).body.versions;
    expect(versions[0].files).toEqual(expect.arrayContaining([{ path: 'data.txt', size: Buffer.byteLength(marker) }]));
    expect(await (await proxied(id, '/write')).text()).toBe('changed by the app ');

    // A config change: version 2 from the stored files — the app's own change is not carried over.
    expect((await app.patch(`/deployments/${id}`, { config: { env_vars: { ROUND: 'two' } } }, { token: user.token })).status).toBe(200);
    for (let i = 0; i < 200 && (await (await proxied(id, '/')).text()) !== `${marker} two`; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await (await proxied(id, '/')).text()).toBe(`${marker} two`);
    expect(await refCount(marker)).toBe(2); // held by both versions

    // The directory goes (a new disk): a restart writes it again from the blob store.
    expect((await app.post(`/deployments/${id}/stop`, undefined, { token: user.token })).status).toBe(200);
    rmSync(join(app.dataDir, 'deployments', id), { recursive: true, force: true });
    expect((await app.post(`/deployments/${id}/restart`, undefined, { token: user.token })).status).toBe(200);
    await settle(id, ['running']);
    expect(await (await proxied(id, '/')).text()).toBe(`${marker} two`);
    // The platform said so in the deployment's logs (written in batches: a moment later).
    const said = async () => (await app.get(`/deployments/${id}/logs?limit=1000`, { token: user.token })).body.logs.some((line: any) => line.message === 'version 2: files written from the blob store');
    for (let i = 0; i < 50 && !(await said()); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await said()).toBe(true);

    // Deleted: no version holds the contents any more, and they are gone.
    await app.delete(`/deployments/${id}`, { token: user.token });
    expect(await refCount(marker)).toBeNull();
  });

  it('validates input and authentication; lists mine', async () => {
    const files = [{ path: 'index.js', content: 'x' }];
    for (const [body, field] of [
      [{ files }, 'name'],
      [{ name: 'x' }, 'files'],
      [{ name: 'x', files: [] }, 'files'],
      [{ name: 'x', files: [{ path: '../escape.js', content: 'x' }] }, 'files'],
      [{ name: 'x', files: [{ path: '/abs.js', content: 'x' }] }, 'files'],
      [{ name: 'x', files: [{ path: 'a.js', content: 'x' }, { path: 'a.js', content: 'y' }] }, 'files'],
      [{ name: 'x', files: [{ path: 'a.js' }] }, 'files.0.content'],
      [{ name: 'x', files, runtime: 'ruby' }, 'runtime'],
      [{ name: 'x', files, config: { port: 80 } }, 'config.port'],
      [{ name: 'x', files, config: { env_vars: { PORT: '1' } } }, 'config.env_vars'],
      [{ name: 'x', files, config: { env_vars: { 'A-B': '1' } } }, 'config.env_vars'],
      [{ name: 'x', files, config: { env_vars: { A: 1 } } }, 'config.env_vars'],
      [{ name: 'x', files: [{ path: 'notes.txt', content: 'no start' }], runtime: 'python' }, 'config.start_command'],
    ] as const) {
      expectValidation(await app.post('/deployments', body, { token: user.token }), field);
    }
    expect((await app.post('/deployments', { name: 'x', files })).status).toBe(401);
    const listed = await app.get('/deployments?limit=100', { token: user.token });
    expect(listed.status).toBe(200);
    expect(listed.body.deployments.length).toBeGreaterThan(0);
    expect((await app.get('/deployments', { token: other.token })).body.deployments).toEqual([]);
    expectValidation(await app.get('/deployments?status=sleeping', { token: user.token }), 'status');
    expectError(await app.get('/deployments/not-a-uuid', { token: user.token }), 400, 'VALIDATION_ERROR');
  });
});

describe('Deployments by host name (DEPLOY_DOMAIN)', () => {
  it('answers <id>.<DEPLOY_DOMAIN> with the app, any path; other hosts reach the API', async () => {
    const app = await TestApp.start({ DEPLOY_DOMAIN: 'apps.example.test' });
    try {
      const user = await enterpriseUser(app);
      const id = (await app.post('/deployments', { name: 'hosted', files: [{ path: 'server.js', content: NODE_APP }] }, { token: user.token })).body.deployment.id;
      for (let i = 0; i < 200 && (await app.get(`/deployments/${id}`, { token: user.token })).body.deployment.status !== 'running'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const viaHost = (host: string, path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpRequest(`${app.url}${path}`, { headers: { host } }, (res) => {
            let body = '';
            res.on('data', (chunk) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      expect(await viaHost(`${id}.apps.example.test:8080`, '/api/v1/health?x=1')).toEqual({ status: 200, body: 'hello GET /api/v1/health?x=1 ' });
      expect((await viaHost(`00000000-0000-4000-8000-000000000000.apps.example.test`, '/')).status).toBe(404);
      expect((await viaHost('api.example.test', '/api/v1/health')).status).toBe(200);

      // Upgrades too, whatever the path — even the API's own WebSocket path.
      const echo = (await app.post('/deployments', { name: 'hosted-ws', files: [{ path: 'server.js', content: WS_ECHO_APP }] }, { token: user.token })).body.deployment.id;
      for (let i = 0; i < 200 && (await app.get(`/deployments/${echo}`, { token: user.token })).body.deployment.status !== 'running'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const socket = new WebSocket(`${app.url.replace(/^http/, 'ws')}/api/v1/ws?x=2`, { headers: { host: `${echo}.apps.example.test` } });
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const answer = new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));
      socket.send('hi');
      expect(await answer).toBe(`echo /api/v1/ws?x=2 http ${echo}.apps.example.test hi`);
      socket.close();
    } finally {
      await app.stop();
    }
  });
});

describe('Deployments with outbound access (DEPLOY_OUTBOUND=internet)', () => {
  /** Tries each host:port from inside the app: `open`, or the error's code. */
  const PROBE_APP = `
const http = require('http');
const net = require('net');
const fs = require('fs');
const tryConnect = (host, port) => new Promise((resolve) => {
  const socket = net.connect({ host, port: Number(port), timeout: 3000 });
  socket.once('connect', () => { socket.destroy(); resolve('open'); });
  socket.once('timeout', () => { socket.destroy(); resolve('timeout'); });
  socket.once('error', (error) => resolve(error.code || 'error'));
});
http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://app');
  if (url.pathname === '/try') {
    const targets = url.searchParams.getAll('t');
    const results = {};
    for (const target of targets) { const [host, port] = target.split(':'); results[target] = await tryConnect(host, port); }
    res.end(JSON.stringify(results));
    return;
  }
  if (url.pathname === '/fetch') {
    http.get(url.searchParams.get('u'), (r) => { let b = ''; r.on('data', (c) => (b += c)); r.on('end', () => res.end(b)); }).on('error', (e) => res.end('error ' + e.code));
    return;
  }
  res.end(JSON.stringify({ resolv: fs.readFileSync('/etc/resolv.conf', 'utf8'), routes: fs.readFileSync('/proc/net/route', 'utf8') }));
}).listen(process.env.PORT);
`;
  const sh = (command: string) => execSync(command, { stdio: 'pipe' }).toString();

  it('reaches the internet (a stand-in public host in a network namespace of its own) but nothing private, the host\'s loopback or the host\'s own addresses', async () => {
    const app = await TestApp.start({ DEPLOY_OUTBOUND: 'internet', DEPLOY_HEALTH_TIMEOUT_MS: '10000' });
    const tag = randomUUID().slice(0, 6);
    // "The internet": 198.20.0.2 (a public address), in a namespace of its own reached through a veth pair
    // whose host end has no address — so it is none of this host's addresses.
    const internet = { ns: `cr-inet-${tag}`, host: `crh${tag}`, far: `crn${tag}`, ip: '198.20.0.2' };
    const asRoot = process.getuid?.() === 0;
    let server: ReturnType<typeof spawn> | undefined;
    try {
      if (asRoot) {
        sh(`ip netns add ${internet.ns} && ip link add ${internet.host} type veth peer name ${internet.far} && ip link set ${internet.far} netns ${internet.ns}`);
        sh(`ip link set ${internet.host} up && ip route add ${internet.ip}/32 dev ${internet.host}`);
        sh(`ip -n ${internet.ns} addr add ${internet.ip}/32 dev ${internet.far} && ip -n ${internet.ns} link set ${internet.far} up && ip -n ${internet.ns} link set lo up && ip -n ${internet.ns} route add default dev ${internet.far}`);
        server = spawn('ip', ['netns', 'exec', internet.ns, process.execPath, '-e', `require('http').createServer((q, s) => s.end('public hello')).listen(8080, '${internet.ip}')`], { stdio: 'ignore' });
        for (let i = 0; i < 100 && !(await canConnect(8080, internet.ip)); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const user = await enterpriseUser(app);
      const id = (await app.post('/deployments', { name: 'outbound', files: [{ path: 'server.js', content: PROBE_APP }] }, { token: user.token })).body.deployment.id;
      let deployment: any;
      for (let i = 0; i < 300; i++) {
        deployment = (await app.get(`/deployments/${id}`, { token: user.token })).body.deployment;
        if (['running', 'failed'].includes(deployment.status)) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (!asRoot) {
        // Not root: no firewall can be loaded into the app's namespace, so it gets no way out and says why.
        expect(deployment.status).toBe('failed');
        const logs = (await app.get(`/deployments/${id}/logs`, { token: user.token })).body.logs;
        expect(logs.some((line: any) => line.message.startsWith('outbound network not set up'))).toBe(true);
        return;
      }
      expect(deployment.status).toBe('running');
      const inside: any = await (await fetch(`${app.url}/d/${id}/`)).json();
      expect(inside.resolv).toContain('nameserver 10.0.2.3');
      expect(inside.routes).toMatch(/^tap0\s+00000000\s/m); // a default route through slirp4netns' tap device
      expect(await (await fetch(`${app.url}/d/${id}/fetch?u=${encodeURIComponent(`http://${internet.ip}:8080/`)}`)).text()).toBe('public hello');

      const apiPort = new URL(app.url).port;
      const pgPort = new URL(app.databaseUrl).port || '5432';
      const hostAddress = Object.values(networkInterfaces()).flat().find((address) => address && address.family === 'IPv4' && !address.internal)?.address;
      const targets = [`127.0.0.1:${pgPort}`, `127.0.0.1:${apiPort}`, `10.0.2.2:${apiPort}`, `10.0.2.2:${pgPort}`, `169.254.169.254:80`, `192.168.1.1:80`, ...(hostAddress ? [`${hostAddress}:${apiPort}`, `${hostAddress}:${pgPort}`] : [])];
      const tried: any = await (await fetch(`${app.url}/d/${id}/try?${targets.map((t) => `t=${t}`).join('&')}`)).json();
      for (const target of targets) expect([target, tried[target]]).not.toEqual([target, 'open']);
      expect(tried[`127.0.0.1:${apiPort}`]).toBe('ECONNREFUSED'); // the app's own loopback: nothing listens there
    } finally {
      server?.kill();
      if (asRoot) execSync(`ip netns del ${internet.ns} 2>/dev/null; ip link del ${internet.host} 2>/dev/null; true`);
      await app.stop();
    }
  });
});

describe('Deployments across a platform restart', () => {
  it('brings back what should be running, and leaves stopped what was stopped', async () => {
    const first = await TestApp.start();
    const user = await enterpriseUser(first);
    const running = (await first.post('/deployments', { name: 'keep', files: [{ path: 'server.js', content: NODE_APP }] }, { token: user.token })).body.deployment.id;
    const stopped = (await first.post('/deployments', { name: 'rest', files: [{ path: 'server.js', content: NODE_APP }] }, { token: user.token })).body.deployment.id;
    const waitFor = async (on: TestApp, id: string, status: string) => {
      for (let i = 0; i < 200; i++) {
        if ((await on.get(`/deployments/${id}`, { token: user.token })).body.deployment.status === status) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`${id} never ${status}`);
    };
    await waitFor(first, running, 'running');
    await waitFor(first, stopped, 'running');
    await first.post(`/deployments/${stopped}/stop`, undefined, { token: user.token });
    // The same database and data directory, a new process.
    const dataDir = first.running.config.dataDir;
    await first.stop({ keepDatabase: true, keepDataDir: true });
    const second = await TestApp.start({ DATA_DIR: dataDir }, { databaseName: first.databaseNameForSharing });
    try {
      // Until it is back, the stored status is the one it had when the platform went down.
      let answer = await fetch(`${second.url}/d/${running}/`);
      for (let i = 0; i < 200 && answer.status === 503; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        answer = await fetch(`${second.url}/d/${running}/`);
      }
      expect([await answer.text(), (await second.get(`/deployments/${running}`, { token: user.token })).body.deployment.error]).toEqual(['hello GET / ', null]);
      expect((await second.get(`/deployments/${running}`, { token: user.token })).body.deployment.status).toBe('running');
      expect((await second.get(`/deployments/${stopped}`, { token: user.token })).body.deployment.status).toBe('stopped');
    } finally {
      await second.stop();
    }
  });
});
