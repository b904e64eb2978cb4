import { execFile } from 'node:child_process';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../../src/common/errors/app-error';
import { parseSamples } from '../../src/modules/monitoring/metric-samples';
import { ServerProber } from '../../src/modules/monitoring/probes/server-prober';
import { ServerMetricsRepository } from '../../src/modules/monitoring/repositories/server-metrics.repository';
import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';
import { WsClient } from '../support/ws-client';

/**
 * Monitoring end to end: servers.probe against a TCP listener opened and
 * closed here (status changes, status_since, the server:<id> channel and the
 * owner's notifications), agents' pushes (a scoped key, all-or-nothing
 * batches, the shipped bin/coderunner-agent), the latest sample, the status,
 * the bucketed history over generated samples, the local host's sampling and
 * /monitor/stats; every route with 400, 401, 403 and 404.
 */

jest.setTimeout(120_000);

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const MISSING = '00000000-0000-4000-8000-000000000000';
const PROBE_JOB = '/admin/maintenance/jobs/servers.probe/run';

function listen(port = 0): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => socket.destroy());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The instant as ISO-8601 written with another offset ('+15:00'): the same instant, another wall clock. */
const withOffset = (instant: Date, offset: string): string => {
  const minutes = (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
  return `${new Date(instant.getTime() + minutes * 60_000).toISOString().slice(0, 19)}${offset}`;
};

const sample = (timestamp: Date, overrides: Record<string, unknown> = {}) => ({
  timestamp: timestamp.toISOString(), cpu_percent: 10, memory_percent: 20, disk_percent: 30, network_in_bytes: 100, network_out_bytes: 50, load_1m: 0.5, ...overrides,
});

describe('Monitoring', () => {
  let app: TestApp;
  let user: User;
  let other: User;
  /** An admin of their own: a user's server may not point at this host (127.0.0.1), an admin's may. */
  let operator: User;
  let admin: string;
  let writeKey: string;
  let readKey: string;
  let otherKey: string;

  const createKey = async (owner: User, scopes: string[]) => {
    const created = await app.post('/api-keys', { name: scopes.join(' '), scopes }, { token: owner.token });
    expect(created.status).toBe(201);
    return created.body.key as string;
  };
  const addServer = async (owner: User, fields: Record<string, unknown> = {}) => {
    const created = await app.post('/servers', { name: 'srv', host: 'example.com', port: 80, ...fields }, { token: owner.token });
    expect(created.status).toBe(201);
    return created.body.server.id as string;
  };
  const probe = async () => {
    const run = await app.post(PROBE_JOB, undefined, { token: admin });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ job_name: 'servers.probe', status: 'succeeded' });
    return run.body.output;
  };

  beforeAll(async () => {
    app = await TestApp.start({ MONITOR_PROBE_TIMEOUT_MS: '500' });
    admin = await app.adminToken();
    [user, other, operator] = [await app.registerUser(), await app.registerUser(), await app.registerUser()];
    expect((await app.put(`/admin/users/${operator.id}`, { role: 'admin' }, { token: admin })).status).toBe(200);
    const login = await app.post('/auth/login', { username: operator.username, password: operator.password });
    expect(login.status).toBe(200);
    operator = { ...operator, token: login.body.tokens.access };
    // The free plan allows one API key.
    expect((await app.put(`/admin/users/${user.id}`, { level: 'enterprise' }, { token: admin })).status).toBe(200);
    writeKey = await createKey(user, ['metrics:write']);
    readKey = await createKey(user, ['profile:read']);
    otherKey = await createKey(other, ['metrics:write']);
  });
  afterAll(async () => {
    await app?.stop();
  });

  describe('probes', () => {
    it('a listener opened and closed: online, offline, online again, announced on server:<id> and to the owner', async () => {
      let listener = await listen();
      const port = (listener.address() as { port: number }).port;
      const id = await addServer(operator, { name: 'probed', host: '127.0.0.1', port, monitored: true });
      const socket = WsClient.connect(app.url, `/api/v1/ws?token=${operator.token}`);
      await socket.nextOfType('authenticated');
      socket.send({ type: 'subscribe', channel: `server:${id}` });
      socket.send({ type: 'subscribe', channel: 'notifications' });
      await socket.nextOfType('subscribed', `server:${id}`);
      await socket.nextOfType('subscribed', 'notifications');
      const otherSocket = WsClient.connect(app.url, `/api/v1/ws?token=${other.token}`);
      await otherSocket.nextOfType('authenticated');
      otherSocket.send({ type: 'subscribe', channel: `server:${id}` });
      expect((await otherSocket.nextOfType('error')).payload.code).toBe('FORBIDDEN');
      otherSocket.close();

      const notifications = async () =>
        (await app.query(`SELECT type, title, data FROM notifications WHERE user_id = $1 ORDER BY created_at`, [operator.id])).rows;

      // unknown → online: announced on the channel, no notification (what everyone expects).
      let output = await probe();
      expect(output).toMatchObject({ probed: 1, online: 1, offline: 0, changed: 1 });
      let update = await socket.nextOfType('update', `server:${id}`);
      expect(update.payload).toMatchObject({ server_id: id, status: 'online', previous_status: 'unknown' });
      expect(update.payload.latency_ms).toBeGreaterThanOrEqual(0);
      let status = (await app.get(`/monitor/servers/${id}/status`, { token: operator.token })).body;
      expect(status).toMatchObject({ server_id: id, status: 'online', monitored: true });
      expect(Object.keys(status).sort()).toEqual(['checked_at', 'latency_ms', 'monitored', 'server_id', 'status', 'status_since']);
      expect(status.status_since).toBe(status.checked_at);
      const onlineSince = status.status_since;
      expect(await notifications()).toEqual([]);

      // Still online: no change, status_since stays.
      output = await probe();
      expect(output).toMatchObject({ probed: 1, online: 1, changed: 0 });
      status = (await app.get(`/monitor/servers/${id}/status`, { token: operator.token })).body;
      expect(status.status_since).toBe(onlineSince);
      expect(Date.parse(status.checked_at)).toBeGreaterThan(Date.parse(onlineSince));

      // Closed: offline, announced, and the owner is told.
      await close(listener);
      output = await probe();
      expect(output).toMatchObject({ probed: 1, online: 0, offline: 1, changed: 1 });
      update = await socket.nextOfType('update', `server:${id}`);
      expect(update.payload).toMatchObject({ server_id: id, status: 'offline', previous_status: 'online', latency_ms: null });
      const told = await socket.nextOfType('notification');
      expect(told.payload).toMatchObject({ type: 'alert', title: 'Server probed is offline', data: { kind: 'server_status', server_id: id, status: 'offline' } });
      status = (await app.get(`/monitor/servers/${id}/status`, { token: operator.token })).body;
      expect(status).toMatchObject({ status: 'offline', latency_ms: null });
      expect(status.status_since).toBe(status.checked_at);

      // Open again on the same port: back online.
      listener = await listen(port);
      await probe();
      expect((await socket.nextOfType('update', `server:${id}`)).payload).toMatchObject({ status: 'online', previous_status: 'offline' });
      expect((await socket.nextOfType('notification')).payload.title).toBe('Server probed is back online');
      expect((await notifications()).map((n) => [n.type, n.data.status])).toEqual([['alert', 'offline'], ['alert', 'online']]);
      socket.close();
      await close(listener);

      // Not monitored any more: not probed, status unknown.
      await app.delete(`/monitor/servers/${id}`, { token: operator.token });
      expect(await probe()).toMatchObject({ probed: 0 });
      expect((await app.get(`/monitor/servers/${id}/status`, { token: operator.token })).body).toMatchObject({ status: 'unknown', monitored: false });
    });

    it('a scheduled round probes only the servers that are due; a manual one probes all; a silent host costs the timeout, not the round', async () => {
      const listener = await listen();
      const port = (listener.address() as { port: number }).port;
      const fresh = await addServer(operator, { name: 'fresh', host: '127.0.0.1', port, monitored: true });
      const recent = await addServer(operator, { name: 'recent', host: '127.0.0.1', port, monitored: true });
      const custom = await addServer(operator, { name: 'custom', host: '127.0.0.1', port, monitored: true, probe_interval_seconds: 600 });
      // 192.0.2.0/24 is TEST-NET-1: nothing answers there; the probe times out (500 ms here).
      const silent = await addServer(operator, { name: 'silent', host: '192.0.2.1', port: 9, monitored: true });
      await app.query(`UPDATE servers SET checked_at = now() - interval '10 seconds', status = 'online', status_since = now() WHERE id = $1`, [recent]);
      await app.query(`UPDATE servers SET checked_at = now() - interval '120 seconds', status = 'online', status_since = now() WHERE id = $1`, [custom]);
      // Everyone else's monitored servers are not due either.
      await app.query(`UPDATE servers SET checked_at = now() WHERE monitored AND id <> ALL($1::uuid[])`, [[fresh, recent, custom, silent]]);

      const prober = app.running.app.get(ServerProber);
      const started = Date.now();
      const scheduled = await prober.round(new Date(), false);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(scheduled).toMatchObject({ probed: 2, online: 1, offline: 1 });
      const statuses = async () =>
        Object.fromEntries((await app.query(`SELECT name, status FROM servers WHERE user_id = $1 AND id = ANY($2::uuid[])`, [operator.id, [fresh, recent, custom, silent]])).rows.map((r) => [r.name, r.status]));
      expect(await statuses()).toEqual({ fresh: 'online', recent: 'online', custom: 'online', silent: 'offline' });
      // The silent host was unknown: its owner hears it is offline.
      expect((await app.query(`SELECT title FROM notifications WHERE user_id = $1 AND data->>'server_id' = ANY($2::text[])`, [operator.id, [fresh, recent, custom, silent]])).rows)
        .toEqual([{ title: 'Server silent is offline' }]);

      await close(listener);
      const manual = await probe();
      expect(manual.probed).toBeGreaterThanOrEqual(4);
      expect(await statuses()).toEqual({ fresh: 'offline', recent: 'offline', custom: 'offline', silent: 'offline' });
      for (const id of [fresh, recent, custom, silent]) await app.delete(`/servers/${id}`, { token: operator.token });
    });
  });

  describe('probes of users\' servers', () => {
    it('never connects a user\'s server to the platform\'s own host, by address or by name; an admin\'s it does', async () => {
      let connections = 0;
      const listener = createServer((socket) => {
        connections++;
        socket.destroy();
      });
      await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', () => resolve()));
      const port = (listener.address() as { port: number }).port;
      // Stored before the write-time check existed (or by an admin for the user): the probe checks again.
      const literal = await addServer(user, { name: 'inward-ip', host: 'example.com', port, monitored: true });
      await app.query(`UPDATE servers SET host = '127.0.0.1' WHERE id = $1`, [literal]);
      const mapped = await addServer(user, { name: 'inward-mapped', host: 'example.com', port, monitored: true });
      await app.query(`UPDATE servers SET host = '::ffff:127.0.0.1' WHERE id = $1`, [mapped]);
      // A name that resolves to the loopback.
      const named = await addServer(user, { name: 'inward-name', host: 'localhost', port, monitored: true });
      const admins = await addServer(operator, { name: 'admins-own', host: 'localhost', port, monitored: true });
      await app.query(`UPDATE servers SET checked_at = now() WHERE monitored AND id <> ALL($1::uuid[])`, [[literal, mapped, named, admins]]);
      await app.running.app.get(ServerProber).round(new Date(), false);
      const statuses = Object.fromEntries((await app.query(`SELECT id, status FROM servers WHERE id = ANY($1::uuid[])`, [[literal, mapped, named, admins]])).rows.map((r) => [r.id, r.status]));
      expect(statuses).toEqual({ [literal]: 'offline', [mapped]: 'offline', [named]: 'offline', [admins]: 'online' });
      expect(connections).toBe(1);
      await new Promise((resolve) => listener.close(resolve));
      for (const id of [literal, mapped, named]) await app.delete(`/servers/${id}`, { token: user.token });
      await app.delete(`/servers/${admins}`, { token: operator.token });
    });
  });

  describe('agent push', () => {
    let id: string;
    beforeAll(async () => {
      id = await addServer(user, { name: 'agent' });
    });

    it('stores a batch from a key scoped metrics:write, one bare sample, a session\'s push; moves last_seen_at', async () => {
      const now = Date.now();
      const batch = [0, 1, 2].map((i) => sample(new Date(now - (3 - i) * 15_000), { cpu_percent: 10 + i, network_in_bytes: 1000 * i }));
      const pushed = await app.post(`/monitor/servers/${id}/metrics`, { samples: batch }, { apiKey: writeKey });
      expect(pushed.status).toBe(201);
      expect(pushed.body).toEqual({ server_id: id, accepted: 3 });
      const bare = await app.post(`/monitor/servers/${id}/metrics`, sample(new Date(now), { cpu_percent: 99.5, load_1m: 3 }), { headers: { authorization: `Bearer ${writeKey}` } });
      expect(bare.status).toBe(201);
      expect(bare.body.accepted).toBe(1);
      expect((await app.post(`/monitor/servers/${id}/metrics`, sample(new Date(now - 60_000)), { token: user.token })).status).toBe(201);

      const { rows } = await app.query(`SELECT cpu_percent, network_in_bytes::int AS net_in FROM server_metrics WHERE server_id = $1 ORDER BY recorded_at`, [id]);
      expect(rows.map((r) => r.cpu_percent)).toEqual([10, 10, 11, 12, 99.5]);
      // An admin may push to anyone's server; the audit entry names the owner.
      expect((await app.post(`/monitor/servers/${id}/metrics`, sample(new Date(now - 120_000)), { token: admin })).status).toBe(201);
      const audit = await app.query(`SELECT metadata FROM audit_logs WHERE action = 'server.metrics_push' AND resource_id = $1 AND user_id <> $2`, [id, user.id]);
      expect(audit.rows.map((r) => r.metadata.owner_id)).toEqual([user.id]);
      const server = (await app.get(`/servers/${id}`, { token: user.token })).body.server;
      expect(Date.parse(server.last_seen_at)).toBeGreaterThan(now - 5000);

      const latest = await app.get(`/monitor/servers/${id}/metrics`, { token: user.token });
      expect(latest.status).toBe(200);
      expect(latest.body).toEqual({
        server_id: id,
        metrics: { timestamp: new Date(now).toISOString(), cpu_percent: 99.5, memory_percent: 20, disk_percent: 30, network_in_bytes: 100, network_out_bytes: 50, load_1m: 3 },
      });
    });

    it('takes a sample without a timestamp as of the moment it arrives', async () => {
      const { timestamp: _left, ...untimed } = sample(new Date(), { cpu_percent: 7 });
      const before = Date.now();
      const pushed = await app.post(`/monitor/servers/${id}/metrics`, untimed, { apiKey: writeKey });
      expect([pushed.status, pushed.body.accepted]).toEqual([201, 1]);
      const { rows } = await app.query(`SELECT recorded_at FROM server_metrics WHERE server_id = $1 AND cpu_percent = 7`, [id]);
      expect(rows).toHaveLength(1);
      expect(rows[0].recorded_at.getTime()).toBeGreaterThanOrEqual(before - 1000);
      expect(rows[0].recorded_at.getTime()).toBeLessThanOrEqual(Date.now());
    });

    it('refuses a key without the scope (403), another owner\'s key (404), no credentials (401)', async () => {
      const body = { samples: [sample(new Date())] };
      expectError(await app.post(`/monitor/servers/${id}/metrics`, body, { apiKey: readKey }), 403, 'FORBIDDEN');
      expectError(await app.post(`/monitor/servers/${id}/metrics`, body, { apiKey: otherKey }), 404, 'NOT_FOUND');
      expectError(await app.post(`/monitor/servers/${id}/metrics`, body, { token: other.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/monitor/servers/${MISSING}/metrics`, body, { apiKey: writeKey }), 404, 'NOT_FOUND');
      expectError(await app.post(`/monitor/servers/${id}/metrics`, body), 401, 'UNAUTHORIZED');
      expectError(await app.post(`/monitor/servers/${id}/metrics`, body, { apiKey: 'sk-not-a-key' }), 401, 'UNAUTHORIZED');
    });

    it('a batch with one bad sample stores nothing and names it by its index', async () => {
      const count = async () => (await app.query(`SELECT count(*)::int AS n FROM server_metrics WHERE server_id = $1`, [id])).rows[0].n;
      const before = await count();
      const now = new Date();
      const good = () => sample(now);
      const cases: Array<[unknown, string[]]> = [
        [{ samples: [good(), good(), good(), sample(now, { cpu_percent: 101 })] }, ['samples[3].cpu_percent']],
        [{ samples: [sample(now, { memory_percent: -1 }), sample(now, { disk_percent: '5' })] }, ['samples[0].memory_percent', 'samples[1].disk_percent']],
        [{ samples: [sample(now, { network_in_bytes: 1.5 })] }, ['samples[0].network_in_bytes']],
        [{ samples: [sample(now, { network_out_bytes: -2 })] }, ['samples[0].network_out_bytes']],
        [{ samples: [sample(now, { load_1m: -0.1 })] }, ['samples[0].load_1m']],
        [{ samples: [sample(new Date(now.getTime() + 10 * 60_000))] }, ['samples[0].timestamp']],
        [{ samples: [sample(new Date(now.getTime() - 40 * 86_400_000))] }, ['samples[0].timestamp']],
        [{ samples: [sample(now, { timestamp: '2025-13-01T00:00:00Z' })] }, ['samples[0].timestamp']],
        [{ samples: [sample(now, { timestamp: '2025-01-01 00:00' })] }, ['samples[0].timestamp']],
        [{ samples: [sample(now, { cpu_percent: null })] }, ['samples[0].cpu_percent']],
        [{ samples: [sample(now, { extra: 1 })] }, ['samples[0].extra']],
        [{ samples: [1, [], null] }, ['samples[0]', 'samples[1]', 'samples[2]']],
        [{ samples: [] }, ['samples']],
        [{ samples: Array.from({ length: 1001 }, good) }, ['samples']],
        [{ samples: 'x' }, ['samples']],
        [{ samples: [good()], more: 1 }, ['more']],
        [sample(now, { cpu_percent: 100.01 }), ['cpu_percent']],
        [{}, ['cpu_percent', 'load_1m']], // a timestamp may be left out; the figures may not
        [sample(now, { timestamp: null as unknown as string }), ['timestamp']],
        [[good()], ['body']],
        ['"text"', ['body']],
      ];
      for (const [body, fields] of cases) expectValidation(await app.post(`/monitor/servers/${id}/metrics`, body, { apiKey: writeKey }), ...fields);
      expectValidation(await app.post('/monitor/servers/nope/metrics', { samples: [good()] }, { apiKey: writeKey }), 'id');
      expect(await count()).toBe(before);
      // 1000 is allowed.
      const many = await app.post(`/monitor/servers/${id}/metrics`, { samples: Array.from({ length: 1000 }, (_, i) => sample(new Date(now.getTime() - i * 1000))) }, { apiKey: writeKey });
      expect(many.status).toBe(201);
      expect(await count()).toBe(before + 1000);
      await app.query(`DELETE FROM server_metrics WHERE server_id = $1`, [id]);
    });

    it('refuses impossible dates and offsets PostgreSQL would not take (400 naming the sample), stores the instant sent', async () => {
      const now = new Date();
      for (const offset of ['+16:00', '-16:00', '+23:59', '+15:60']) {
        const response = await app.post(`/monitor/servers/${id}/metrics`, { samples: [sample(now), sample(now, { timestamp: withOffset(now, offset) })] }, { apiKey: writeKey });
        expect([offset, response.status]).toEqual([offset, 400]);
        expectValidation(response, 'samples[1].timestamp');
      }
      // Node's Date rolls 31 November over to 1 December; it is refused, as are 24:00 and 23:60.
      const reference = new Date('2026-12-02T00:00:00Z');
      for (const timestamp of ['2026-11-31T12:00:00Z', '2026-02-29T12:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T23:60:00Z', '2026-12-01T12:00:60Z']) {
        expect(() => parseSamples({ samples: [sample(reference, { timestamp })] }, reference, 30)).toThrow(AppError);
        try {
          parseSamples({ samples: [sample(reference, { timestamp })] }, reference, 30);
        } catch (error) {
          expect([timestamp, Object.keys((error as AppError).details?.fields as object)]).toEqual([timestamp, ['samples[0].timestamp']]);
        }
      }
      expect(parseSamples({ samples: [sample(reference, { timestamp: '2026-11-30T12:00:00-15:59' })] }, reference, 30)[0].recordedAt.toISOString()).toBe('2026-12-01T03:59:00.000Z');

      // The widest offset PostgreSQL takes: stored as the instant it names.
      const at = new Date(Math.floor(now.getTime() / 1000) * 1000 - 5000);
      const pushed = await app.post(`/monitor/servers/${id}/metrics`, sample(at, { timestamp: withOffset(at, '+15:30'), cpu_percent: 42.5 }), { apiKey: writeKey });
      expect(pushed.status).toBe(201);
      const { rows } = await app.query(`SELECT recorded_at FROM server_metrics WHERE server_id = $1 AND cpu_percent = 42.5`, [id]);
      expect(rows.map((r) => r.recorded_at.toISOString())).toEqual([at.toISOString()]);
      await app.query(`DELETE FROM server_metrics WHERE server_id = $1`, [id]);
    });

    it('stores gauges too small for PostgreSQL\'s real as 0 (rounded to 6 decimals) instead of failing the write', async () => {
      const now = new Date();
      const pushed = await app.post(`/monitor/servers/${id}/metrics`, {
        samples: [
          sample(new Date(now.getTime() - 2000), { cpu_percent: 1e-50, memory_percent: 4e-7, disk_percent: Number.MIN_VALUE, load_1m: 1e-300 }),
          sample(new Date(now.getTime() - 1000), { cpu_percent: 6e-7, memory_percent: 12.3456789, disk_percent: 100, load_1m: 1e-6 }),
        ],
      }, { apiKey: writeKey });
      expect(pushed.status).toBe(201);
      const { rows } = await app.query(
        `SELECT cpu_percent::numeric::float8 AS cpu, memory_percent::numeric::float8 AS memory, disk_percent::numeric::float8 AS disk, load_1m::numeric::float8 AS load
           FROM server_metrics WHERE server_id = $1 ORDER BY recorded_at`,
        [id],
      );
      expect(rows).toEqual([{ cpu: 0, memory: 0, disk: 0, load: 0 }, { cpu: 0.000001, memory: 12.3457, disk: 100, load: 0.000001 }]);
      await app.query(`DELETE FROM server_metrics WHERE server_id = $1`, [id]);
    });

    it('a push whose write fails fails alone: the pushes grouped with it are stored', async () => {
      const bad = await addServer(user, { name: 'bad-write' });
      const repository = app.running.app.get(ServerMetricsRepository);
      const copy = repository.copyBatches.bind(repository);
      let groups = 0;
      repository.copyBatches = async (batches) => {
        if (batches.length > 1) groups++;
        // As PostgreSQL refusing one push's rows refuses the whole COPY.
        if (batches.some((batch) => batch.serverId === bad)) throw new Error('COPY refused');
        return copy(batches);
      };
      try {
        const pushes = await Promise.all(Array.from({ length: 12 }, (_, i) =>
          app.post(`/monitor/servers/${i % 3 === 0 ? bad : id}/metrics`, sample(new Date(Date.now() - i * 1000)), { apiKey: writeKey })));
        expect(pushes.map((r) => r.status)).toEqual(Array.from({ length: 12 }, (_, i) => (i % 3 === 0 ? 500 : 201)));
        expect(groups).toBeGreaterThan(0);
        expect((await app.query(`SELECT count(*)::int AS n FROM server_metrics WHERE server_id = $1`, [id])).rows[0].n).toBe(8);
        expect((await app.query(`SELECT count(*)::int AS n FROM server_metrics WHERE server_id = $1`, [bad])).rows[0].n).toBe(0);
      } finally {
        repository.copyBatches = copy;
      }
      await app.query(`DELETE FROM server_metrics WHERE server_id = $1`, [id]);
      await app.delete(`/servers/${bad}`, { token: user.token });
    });

    it('an admin\'s API key pushes only to the admin\'s own servers and local, never a user\'s (a session may)', async () => {
      const adminKey = (await app.post('/api-keys', { name: 'admin agent', scopes: ['metrics:write'] }, { token: admin })).body.key as string;
      const body = sample(new Date());
      expectError(await app.post(`/monitor/servers/${id}/metrics`, body, { apiKey: adminKey }), 404, 'NOT_FOUND');
      const local = (await app.query(`SELECT id FROM servers WHERE is_local`)).rows[0].id;
      expect((await app.post(`/monitor/servers/${local}/metrics`, body, { apiKey: adminKey })).status).toBe(201);
      const own = (await app.post('/servers', { name: 'admin-box', host: 'example.com', port: 80 }, { token: admin })).body.server.id;
      expect((await app.post(`/monitor/servers/${own}/metrics`, body, { apiKey: adminKey })).status).toBe(201);
      // A user's key cannot reach local.
      expectError(await app.post(`/monitor/servers/${local}/metrics`, body, { apiKey: writeKey }), 404, 'NOT_FOUND');
      expect((await app.post(`/monitor/servers/${id}/metrics`, body, { token: admin })).status).toBe(201);
      await app.delete(`/servers/${own}`, { token: admin });
      await app.query(`DELETE FROM server_metrics WHERE server_id = $1`, [id]);
    });

    it('an API key reads server:<id> over WebSocket only with metrics:write (or *)', async () => {
      const denied = WsClient.connect(app.url, `/api/v1/ws?token=${readKey}`);
      await denied.nextOfType('authenticated');
      denied.send({ type: 'subscribe', channel: `server:${id}` });
      expect((await denied.nextOfType('error')).payload.code).toBe('FORBIDDEN');
      denied.close();
      const allowed = WsClient.connect(app.url, `/api/v1/ws?token=${writeKey}`);
      await allowed.nextOfType('authenticated');
      allowed.send({ type: 'subscribe', channel: `server:${id}` });
      await allowed.nextOfType('subscribed', `server:${id}`);
      allowed.close();
    });

    it('bin/coderunner-agent samples this host and pushes to a live app', async () => {
      const agentServer = await addServer(user, { name: 'agent-host' });
      const { stdout } = await promisify(execFile)(process.execPath, [
        join(__dirname, '../../bin/coderunner-agent'), '--url', app.url, '--key', writeKey, '--server-id', agentServer, '--once',
      ], { timeout: 30_000 });
      expect(JSON.parse(stdout)).toEqual({ server_id: agentServer, accepted: 1 });
      const latest = (await app.get(`/monitor/servers/${agentServer}/metrics`, { token: user.token })).body.metrics;
      for (const field of ['cpu_percent', 'memory_percent', 'disk_percent']) {
        expect(latest[field]).toBeGreaterThanOrEqual(0);
        expect(latest[field]).toBeLessThanOrEqual(100);
      }
      expect(latest.memory_percent).toBeGreaterThan(0);
      expect(Number.isInteger(latest.network_in_bytes) && latest.network_in_bytes >= 0).toBe(true);
      expect(latest.load_1m).toBeGreaterThanOrEqual(0);
      expect(Math.abs(Date.parse(latest.timestamp) - Date.now())).toBeLessThan(30_000);

      // A key without the scope: the agent says so and exits non-zero.
      await expect(promisify(execFile)(process.execPath, [
        join(__dirname, '../../bin/coderunner-agent'), '--url', app.url, '--key', readKey, '--server-id', agentServer, '--once',
      ], { timeout: 30_000 })).rejects.toMatchObject({ code: 1 });
    });
  });

  describe('history', () => {
    it('folds generated samples into exactly the expected buckets, a fixed number per range, null where empty', async () => {
      const id = await addServer(user, { name: 'history' });
      // Samples over the last 7 days: every 7 minutes, values from their index.
      const now = Date.now();
      const times: number[] = [];
      for (let t = now - 7 * 86_400_000 + 60_000; t <= now - 1000; t += 7 * 60_000) times.push(t);
      // A gap of 3 hours with nothing, 5 to 2 hours ago.
      const kept = times.filter((t) => t < now - 5 * 3_600_000 || t >= now - 2 * 3_600_000);
      const rows = kept.map((t, i) => ({ t, cpu: i % 100, mem: (i * 7) % 100, disk: 50, in: i, out: 2 * i }));
      await app.query(
        `INSERT INTO server_metrics (server_id, recorded_at, cpu_percent, memory_percent, disk_percent, network_in_bytes, network_out_bytes, load_1m)
         SELECT $1, to_timestamp(t / 1000.0), c, m, d, i, o, 1 FROM unnest($2::float8[], $3::real[], $4::real[], $5::real[], $6::bigint[], $7::bigint[]) AS x(t, c, m, d, i, o)`,
        [id, rows.map((r) => r.t), rows.map((r) => r.cpu), rows.map((r) => r.mem), rows.map((r) => r.disk), rows.map((r) => r.in), rows.map((r) => r.out)],
      );

      const axes: Record<string, [number, number]> = { '1h': [60, 60], '6h': [72, 300], '24h': [96, 900], '7d': [84, 7200] };
      const fold: Record<string, (inBucket: typeof rows) => number> = {
        cpu: (b) => Math.round((b.reduce((s, r) => s + r.cpu, 0) / b.length) * 100) / 100,
        memory: (b) => Math.round((b.reduce((s, r) => s + r.mem, 0) / b.length) * 100) / 100,
        disk: () => 50,
        network: (b) => b.reduce((s, r) => s + r.in + r.out, 0),
      };
      for (const [range, [points, step]] of Object.entries(axes)) {
        for (const metric of ['cpu', 'memory', 'disk', 'network']) {
          const response = await app.get(`/monitor/servers/${id}/history?time_range=${range}&metric=${metric}`, { token: user.token });
          expect(response.status).toBe(200);
          const { body } = response;
          expect([body.server_id, body.metric, body.time_range]).toEqual([id, metric, range]);
          expect(body.data).toHaveLength(points);
          const starts = body.data.map((p: { timestamp: string }) => Date.parse(p.timestamp));
          expect(starts[0] % (step * 1000)).toBe(0);
          expect(starts.every((s: number, i: number) => i === 0 || s - starts[i - 1] === step * 1000)).toBe(true);
          // The last bucket holds the moment of the request.
          expect(starts[points - 1]).toBeLessThanOrEqual(Date.now());
          expect(starts[points - 1] + step * 1000).toBeGreaterThan(now);
          const expected = starts.map((start: number) => {
            const inBucket = rows.filter((r) => r.t >= start && r.t < start + step * 1000);
            return { timestamp: new Date(start).toISOString(), value: inBucket.length ? fold[metric](inBucket) : null };
          });
          expect([range, metric, body.data]).toEqual([range, metric, expected]);
        }
      }
      // The gap is empty in the 6h chart, and some buckets are filled.
      const sixHours = (await app.get(`/monitor/servers/${id}/history?time_range=6h&metric=cpu`, { token: user.token })).body.data;
      expect(sixHours.filter((p: { value: number | null }) => p.value === null).length).toBeGreaterThanOrEqual(30);
      expect(sixHours.filter((p: { value: number | null }) => p.value !== null).length).toBeGreaterThanOrEqual(10);
      // Defaults: 1h of cpu.
      const defaults = (await app.get(`/monitor/servers/${id}/history`, { token: user.token })).body;
      expect([defaults.time_range, defaults.metric, defaults.data.length]).toEqual(['1h', 'cpu', 60]);
    });
  });

  describe('the local host and stats', () => {
    it('metrics.sample_host samples the platform\'s host into server local, which only admins read', async () => {
      const run = await app.post('/admin/maintenance/jobs/metrics.sample_host/run', undefined, { token: admin });
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({ status: 'succeeded', output: { stored: true } });
      const local = (await app.query(`SELECT id FROM servers WHERE is_local`)).rows[0].id;
      const latest = await app.get(`/monitor/servers/${local}/metrics`, { token: admin });
      expect(latest.status).toBe(200);
      expect(latest.body.metrics.memory_percent).toBeGreaterThan(0);
      expect(latest.body.metrics.disk_percent).toBeGreaterThan(0);
      expectError(await app.get(`/monitor/servers/${local}/metrics`, { token: user.token }), 404, 'NOT_FOUND');
      expect((await app.get(`/servers/${local}`, { token: admin })).body.server.last_seen_at).not.toBeNull();
    });

    it('GET /monitor/stats: my servers, deployments, runs today and error rate; an admin\'s count local', async () => {
      const fresh = await app.registerUser();
      const empty = await app.get('/monitor/stats', { token: fresh.token });
      expect(empty.status).toBe(200);
      expect(empty.body).toMatchObject({
        servers: { total: 0, online: 0, offline: 0 }, deployments: { total: 0, running: 0 }, executions: { today: 0 },
        // The registration is the one state-changing request so far.
        requests: { total: 1, errors: 0, error_rate: 0 },
      });
      const a = (await app.post('/servers', { name: 'a', host: 'example.com', port: 80 }, { token: fresh.token })).body.server.id;
      const b = (await app.post('/servers', { name: 'b', host: 'example.com', port: 80 }, { token: fresh.token })).body.server.id;
      await app.post('/servers', { name: 'c', host: 'example.com', port: 80 }, { token: fresh.token });
      await app.query(`UPDATE servers SET status = 'online' WHERE id = $1`, [a]);
      await app.query(`UPDATE servers SET status = 'offline' WHERE id = $1`, [b]);
      // One refused request: 1 error of 5 state-changing requests (the registration, 3 servers, this one).
      expect((await app.post('/servers', { name: 'bad' }, { token: fresh.token })).status).toBe(400);
      let stats = (await app.get('/monitor/stats', { token: fresh.token })).body;
      for (let i = 0; i < 50 && stats.requests.total < 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        stats = (await app.get('/monitor/stats', { token: fresh.token })).body;
      }
      expect(stats.servers).toEqual({ total: 3, online: 1, offline: 1 });
      expect(stats.requests).toMatchObject({ total: 5, errors: 1, error_rate: 0.2 });
      expect(Date.parse(stats.requests.since)).toBeLessThan(Date.now() - 23 * 3_600_000);

      const adminStats = (await app.get('/monitor/stats', { token: admin })).body;
      const adminServers = (await app.query(`SELECT count(*)::int AS n FROM servers WHERE is_local OR user_id = (SELECT id FROM users WHERE username = 'admin')`)).rows[0].n;
      expect(adminStats.servers.total).toBe(adminServers);
      expect(adminServers).toBeGreaterThanOrEqual(1);

      expectValidation(await app.get('/monitor/stats?x=1', { token: fresh.token }), 'x');
      expectError(await app.get('/monitor/stats'), 401, 'UNAUTHORIZED');
      expectError(await app.get('/monitor/stats', { apiKey: writeKey }), 403, 'FORBIDDEN');
    });
  });

  it('every read route: 400, 401, 403 and 404', async () => {
    const id = await addServer(user, { name: 'reads' });
    for (const path of ['metrics', 'status', 'history']) {
      expectValidation(await app.get(`/monitor/servers/not-a-uuid/${path}`, { token: user.token }), 'id');
      expectError(await app.get(`/monitor/servers/${id}/${path}`), 401, 'UNAUTHORIZED');
      expectError(await app.get(`/monitor/servers/${id}/${path}`, { apiKey: writeKey }), 403, 'FORBIDDEN');
      expectError(await app.get(`/monitor/servers/${id}/${path}`, { token: other.token }), 404, 'NOT_FOUND');
      expectError(await app.get(`/monitor/servers/${MISSING}/${path}`, { token: user.token }), 404, 'NOT_FOUND');
      expect((await app.get(`/monitor/servers/${id}/${path}`, { token: admin })).status).toBe(200);
    }
    expectValidation(await app.get(`/monitor/servers/${id}/metrics?x=1`, { token: user.token }), 'x');
    expectValidation(await app.get(`/monitor/servers/${id}/status?x=1`, { token: user.token }), 'x');
    expectValidation(await app.get(`/monitor/servers/${id}/history?time_range=2h`, { token: user.token }), 'time_range');
    expectValidation(await app.get(`/monitor/servers/${id}/history?metric=load`, { token: user.token }), 'metric');
    expectValidation(await app.get(`/monitor/servers/${id}/history?metric=`, { token: user.token }), 'metric');
    expectValidation(await app.get(`/monitor/servers/${id}/history?extra=1`, { token: user.token }), 'extra');
    expect((await app.get(`/monitor/servers/${id}/metrics`, { token: user.token })).body).toEqual({ server_id: id, metrics: null });
    expect((await app.get(`/monitor/servers/${id}/status`, { token: user.token })).body).toEqual({
      server_id: id, status: 'unknown', latency_ms: null, checked_at: null, status_since: null, monitored: false,
    });
  });
});
