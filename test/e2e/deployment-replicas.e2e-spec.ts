import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DeploymentLeaseRepository } from '../../src/modules/deployments/repositories/deployment-lease.repository';
import { DeploymentRunner } from '../../src/modules/deployments/runtime/deployment-runner';
import { startS3Server, TestS3Server } from '../support/s3-server';
import { TestApp } from '../support/test-app';
import { WS_ECHO_APP } from '../support/deployed-apps';

/**
 * Deployments on two replicas of one database (files in one S3 stand-in, as
 * replicas on two hosts would share them): each deployment runs on the replica
 * holding its lease, the other forwards its requests and upgrades there and
 * sends it the commands; a replica that stops renewing its leases loses its
 * deployments to the other, and one that shuts down hands them over.
 */

jest.setTimeout(120_000);

/** Answers hello, echoes bodies on /echo (any method), tells its headers and every request it has seen. */
const NODE_APP = `
const seen = [];
require('http').createServer((req, res) => {
  seen.push(req.method + ' ' + req.url);
  if (req.url === '/headers') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(req.headers)); return; }
  if (req.url === '/seen') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(seen)); return; }
  if (req.url === '/echo') { req.pipe(res); return; }
  res.end('hello ' + (process.env.GREETING || ''));
}).listen(process.env.PORT);
`;


describe('Deployments on two replicas', () => {
  let s3: TestS3Server;
  let a: TestApp;
  let b: TestApp;
  let bStopped = false;
  let token: string;
  let admin: string;
  const replicaOf = (app: TestApp) => readFileSync(join(app.dataDir, 'replica-id'), 'utf8').trim();

  beforeAll(async () => {
    s3 = await startS3Server();
    const env = { ...s3.env, DEPLOY_LEASE_SECONDS: '2', DEPLOY_HEALTH_TIMEOUT_MS: '5000' };
    a = await TestApp.start(env);
    // Its apps' uids apart from a's: two replicas on one host.
    b = await TestApp.start({ ...env, DEPLOY_UID_BASE: '65000' }, { databaseName: a.databaseNameForSharing });
    const user = await a.registerUser();
    admin = await a.adminToken();
    await a.put(`/admin/users/${user.id}`, { level: 'enterprise' }, { token: admin });
    token = user.token;
  });
  afterAll(async () => {
    if (!bStopped) await b?.stop({ keepDatabase: true });
    await a?.stop();
    await s3?.stop();
  });

  async function deploy(on: TestApp, body: Record<string, unknown>): Promise<string> {
    const response = await on.post('/deployments', body, { token });
    if (response.status !== 201) throw new Error(`deploy failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.deployment.id;
  }

  /** Polls until `check` passes (it throws until then). */
  async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await check();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async function settle(id: string, status: string): Promise<void> {
    await eventually(async () => expect((await a.get(`/deployments/${id}`, { token })).body.deployment.status).toBe(status));
  }

  const holderOf = async (id: string): Promise<string | undefined> =>
    (await a.query<{ replica_id: string }>('SELECT replica_id FROM deployment_leases WHERE deployment_id = $1 AND expires_at > now()', [id])).rows[0]?.replica_id;
  const runsOn = async (app: TestApp, id: string): Promise<boolean> =>
    (await app.get('/admin/sandboxes', { token: admin })).body.sandboxes.some((sandbox: { deployment_id: string }) => sandbox.deployment_id === id);
  const text = async (app: TestApp, id: string, path = '/', init: RequestInit = {}) => {
    const response = await fetch(`${app.url}/d/${id}${path}`, init);
    return `${response.status} ${await response.text()}`;
  };

  it('runs each deployment on one replica and reaches it through either: bodies, headers, private access, WebSocket upgrades', async () => {
    const id = await deploy(a, { name: 'one', files: [{ path: 'server.js', content: NODE_APP }] });
    await settle(id, 'running');
    expect(await holderOf(id)).toBe(replicaOf(a));
    expect([await runsOn(a, id), await runsOn(b, id)]).toEqual([true, false]);
    expect((await a.get('/admin/sandboxes', { token: admin })).body.replica_id).toBe(replicaOf(a));

    // Through b: forwarded to a, streamed both ways.
    expect(await text(b, id)).toBe('200 hello ');
    const body = 'x'.repeat(300_000);
    expect(await text(b, id, '/echo', { method: 'POST', body })).toBe(`200 ${body}`);
    const headers = (await (await fetch(`${b.url}/d/${id}/headers`, { headers: { 'x-forwarded-for': '203.0.113.9' } })).json()) as Record<string, string>;
    expect(headers['x-forwarded-for']).toMatch(/^203\.0\.113\.9, 127\.0\.0\.1, 127\.0\.0\.1$/);
    expect(headers['x-forwarded-prefix']).toBe(`/d/${id}`);
    expect(headers['x-coderunner-forwarded-by']).toBeUndefined();

    // A private one: the holder applies the rule to forwarded requests too.
    const secret = await deploy(a, { name: 'secret', files: [{ path: 'server.js', content: NODE_APP }], config: { private: true } });
    await settle(secret, 'running');
    expect(await text(b, secret)).toMatch(/^401 /);
    expect(await text(b, secret, '/', { headers: { authorization: `Bearer ${token}` } })).toBe('200 hello ');

    // An upgrade through b is piped to a's app.
    const echo = await deploy(a, { name: 'echo', files: [{ path: 'server.js', content: WS_ECHO_APP }] });
    await settle(echo, 'running');
    const socket = new WebSocket(`${b.url.replace(/^http/, 'ws')}/d/${echo}/socket`);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const answer = new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));
    socket.send('over two replicas');
    // Passed on as it came: the app sees b's host, as the client asked for it.
    expect(await answer).toBe(`echo /socket http ${new URL(b.url).host} over two replicas`);
    socket.close();

    // A request forwarded once is answered where it lands, never forwarded again.
    const looped = await fetch(`${b.url}/d/${id}/`, { headers: { 'x-coderunner-forwarded-by': replicaOf(a) } });
    expect(looped.status).toBe(503);
    for (const done of [id, secret, echo]) expect((await a.delete(`/deployments/${done}`, { token })).status).toBe(200);
  });

  it('carries a change, a restart, a stop and a delete asked of one replica to the replica running the deployment', async () => {
    const id = await deploy(a, { name: 'commands', files: [{ path: 'server.js', content: NODE_APP }] });
    await settle(id, 'running');

    // A change asked of b: a's app is replaced by version 2, still on a.
    expect((await b.patch(`/deployments/${id}`, { config: { env_vars: { GREETING: 'v2' } } }, { token })).status).toBe(200);
    await eventually(async () => expect(await text(b, id)).toBe('200 hello v2'));
    expect(await holderOf(id)).toBe(replicaOf(a));
    expect(await runsOn(b, id)).toBe(false);

    const restarted = await b.post(`/deployments/${id}/restart`, undefined, { token });
    expect([restarted.status, restarted.body.deployment.status]).toEqual([200, 'restarting']);
    await settle(id, 'running');
    expect(await holderOf(id)).toBe(replicaOf(a));

    // A stop asked of b answers once a's app is gone; the lease goes with it.
    const stopped = await b.post(`/deployments/${id}/stop`, undefined, { token });
    expect([stopped.status, stopped.body.deployment.status]).toEqual([200, 'stopped']);
    expect(await runsOn(a, id)).toBe(false);
    expect(await holderOf(id)).toBeUndefined();
    expect((await b.post(`/deployments/${id}/stop`, undefined, { token })).status).toBe(409);

    // Started again from b, nobody holding it: it runs on b now, reached through a.
    expect((await b.post(`/deployments/${id}/restart`, undefined, { token })).status).toBe(200);
    await settle(id, 'running');
    expect(await holderOf(id)).toBe(replicaOf(b));
    expect(await text(a, id)).toBe('200 hello v2');

    // Deleted through a: b's app stops first.
    expect((await a.delete(`/deployments/${id}`, { token })).status).toBe(200);
    expect(await runsOn(b, id)).toBe(false);
    expect(await text(a, id)).toMatch(/^404 /);
  });

  it('keeps a chunked body framed on the way, to the app and to the other replica: its bytes never read as a request of their own', async () => {
    const id = await deploy(a, { name: 'framing', files: [{ path: 'server.js', content: NODE_APP }] });
    await settle(id, 'running');
    const smuggled = `GET /d/${id}/SMUGGLED HTTP/1.1\r\nHost: x\r\n\r\n`;
    for (const via of [a, b]) {
      // A DELETE (not chunked by default when Node sends one) with a chunked body holding a request.
      const answer = await rawExchange(new URL(via.url), [
        `DELETE /d/${id}/echo HTTP/1.1`, `Host: ${new URL(via.url).host}`, 'Transfer-Encoding: chunked', 'Connection: close', '', `${smuggled.length.toString(16)}`, smuggled, '0', '', '',
      ].join('\r\n'));
      expect(answer).toMatch(/^HTTP\/1\.1 200/);
      expect(answer).toContain('SMUGGLED HTTP/1.1');
    }
    const seen = (await (await fetch(`${a.url}/d/${id}/seen`)).json()) as string[];
    expect(seen.filter((line) => line.includes('SMUGGLED'))).toEqual([]);
    expect(seen.filter((line) => line === 'DELETE /echo')).toHaveLength(2);
    expect((await a.delete(`/deployments/${id}`, { token })).status).toBe(200);
  });

  it('stops what the database says is stopped even when the stop never reached the holder, and a holder that hung finds its deployment stopped without it', async () => {
    // The stop's message is lost: only the desired state is written. The holder reads it at its next renewal.
    const lost = await deploy(a, { name: 'lost-stop', files: [{ path: 'server.js', content: NODE_APP }] });
    await settle(lost, 'running');
    await a.query(`UPDATE deployments SET desired_state = 'stopped' WHERE id = $1`, [lost]);
    await settle(lost, 'stopped');
    expect(await runsOn(a, lost)).toBe(false);
    // Let go once it is stopped (the status is written first).
    await eventually(async () => expect(await holderOf(lost)).toBeUndefined());

    // The holder (b) hangs past its lease; a stop asked of a takes the lapsed lease and stops it there.
    const hung = await deploy(b, { name: 'hung-holder', files: [{ path: 'server.js', content: NODE_APP }] });
    await settle(hung, 'running');
    const runnerB = b.running.app.get(DeploymentRunner) as unknown as { leaseTimer: NodeJS.Timeout; keepLeases(): Promise<void> };
    clearInterval(runnerB.leaseTimer);
    await a.query(`UPDATE deployment_leases SET expires_at = now() - interval '1 second' WHERE deployment_id = $1`, [hung]);
    const stopped = await a.post(`/deployments/${hung}/stop`, undefined, { token });
    expect([stopped.status, stopped.body.deployment.status]).toEqual([200, 'stopped']);
    // b wakes up: its lease is gone, so it cannot renew it back; its copy stops.
    expect(await runsOn(b, hung)).toBe(true);
    await runnerB.keepLeases();
    expect(await runsOn(b, hung)).toBe(false);
    expect(await text(a, hung)).toMatch(/^503 /);
    expect(await text(b, hung)).toMatch(/^503 /);
    runnerB.leaseTimer = setInterval(() => void runnerB.keepLeases(), 666);
    for (const id of [lost, hung]) expect((await a.delete(`/deployments/${id}`, { token })).status).toBe(200);
  });

  it('answers 502 when the replica holding a deployment cannot be reached, for requests and upgrades alike', async () => {
    const id = await deploy(a, { name: 'unreachable', files: [{ path: 'server.js', content: NODE_APP }] });
    await settle(id, 'running');
    // A holder at an address where nothing listens (a replica gone without a word, its lease not lapsed yet).
    const closedPort = await new Promise<number>((resolve) => {
      const probe = require('node:net').createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() => resolve(port));
      });
    });
    await a.query(
      `UPDATE deployment_leases SET replica_id = gen_random_uuid(), replica_url = $2, expires_at = now() + interval '1 minute' WHERE deployment_id = $1`,
      [id, `http://127.0.0.1:${closedPort}`],
    );
    expect(await text(b, id)).toMatch(/^502 /);
    const socket = new WebSocket(`${b.url.replace(/^http/, 'ws')}/d/${id}/socket`);
    const status = await new Promise<number | undefined>((resolve) => socket.once('unexpected-response', (_request, response) => resolve(response.statusCode)).once('error', () => resolve(undefined)));
    expect(status).toBe(502);
    await a.query(`UPDATE deployment_leases SET expires_at = now() - interval '1 second' WHERE deployment_id = $1`, [id]);
    expect((await a.delete(`/deployments/${id}`, { token })).status).toBe(200);
  });

  it('stops its apps when it cannot renew its leases for a lease time (fencing), and the other replica takes them over', async () => {
    const id = await deploy(b, { name: 'fenced', files: [{ path: 'server.js', content: NODE_APP }] });
    await settle(id, 'running');
    expect(await holderOf(id)).toBe(replicaOf(b));
    // b alone loses the database as far as its renewals go.
    const repository = b.running.app.get(DeploymentLeaseRepository);
    const renew = repository.renew.bind(repository);
    repository.renew = () => Promise.reject(new Error('database out of reach'));
    try {
      await eventually(async () => expect(await runsOn(b, id)).toBe(false));
      await eventually(async () => expect(await holderOf(id)).toBe(replicaOf(a)));
      await eventually(async () => expect(await text(b, id)).toBe('200 hello '));
    } finally {
      repository.renew = renew;
    }
    // Back: b lets go of what it held (nothing of it is b's now), a keeps running it.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect([await holderOf(id), await runsOn(a, id), await runsOn(b, id)]).toEqual([replicaOf(a), true, false]);
    await eventually(async () => {
      const logs = (await a.get(`/deployments/${id}/logs?limit=1000`, { token })).body.logs.map((line: { message: string }) => line.message);
      expect(logs).toEqual(expect.arrayContaining([expect.stringContaining('lost the database for longer than its lease')]));
    });
    expect((await a.delete(`/deployments/${id}`, { token })).status).toBe(200);
  });

  it('takes over what a replica no longer renews, and the replica lets go when it finds out; a replica shutting down hands over its apps', async () => {
    const id = await deploy(b, { name: 'moves', files: [{ path: 'server.js', content: NODE_APP }] });
    await settle(id, 'running');
    expect(await holderOf(id)).toBe(replicaOf(b));

    // b hangs (as far as its leases go): its renewals stop, the lease lapses, a takes the deployment over.
    const runnerB = b.running.app.get(DeploymentRunner) as unknown as { leaseTimer: NodeJS.Timeout; keepLeases(): Promise<void> };
    clearInterval(runnerB.leaseTimer);
    await eventually(async () => expect(await holderOf(id)).toBe(replicaOf(a)));
    await eventually(async () => expect(await runsOn(a, id)).toBe(true));
    // b wakes up: its next renewal tells it the deployment is a's, and its copy stops.
    expect(await runsOn(b, id)).toBe(true);
    await runnerB.keepLeases();
    expect(await runsOn(b, id)).toBe(false);
    await settle(id, 'running');
    expect(await text(b, id)).toBe('200 hello ');
    // Both replicas said so in its logs (b's writer stores its line within moments).
    await eventually(async () => {
      const logs = (await a.get(`/deployments/${id}/logs?limit=1000`, { token })).body.logs.map((line: { message: string }) => line.message);
      expect(logs).toEqual(expect.arrayContaining([expect.stringContaining('another replica took this deployment over'), expect.stringContaining('the replica that ran it went away')]));
    });

    // Back to b by a restart there after a stop, then b shuts down: a takes it over without waiting for a lease to lapse.
    expect((await b.post(`/deployments/${id}/stop`, undefined, { token })).status).toBe(200);
    expect((await b.post(`/deployments/${id}/restart`, undefined, { token })).status).toBe(200);
    await settle(id, 'running');
    expect(await holderOf(id)).toBe(replicaOf(b));
    await b.stop({ keepDatabase: true });
    bStopped = true;
    await eventually(async () => expect(await text(a, id)).toBe('200 hello '));
    expect(await holderOf(id)).toBe(replicaOf(a));
  });
});

/** Sends raw bytes to the server and reads everything it answers until it closes. */
function rawExchange(url: URL, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer')));
  });
}
