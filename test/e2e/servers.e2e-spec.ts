import { networkInterfaces } from 'node:os';
import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Servers end to end: CRUD of one's own servers, host and port checks,
 * another user's server (404), the platform's own server `local` (admins
 * only), starting and stopping monitoring, bad input, no credentials, and the
 * wrong credentials (an API key on session-only routes: 403).
 */

jest.setTimeout(60_000);

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const MISSING = '00000000-0000-4000-8000-000000000000';

describe('Servers', () => {
  let app: TestApp;
  let user: User;
  let other: User;
  let admin: string;
  let key: string;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    [user, other] = [await app.registerUser(), await app.registerUser()];
    const created = await app.post('/api-keys', { name: 'reader', scopes: ['profile:read'] }, { token: user.token });
    expect(created.status).toBe(201);
    key = created.body.key;
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('creates, lists, reads, changes and deletes a server of mine', async () => {
    const created = await app.post('/servers', { name: 'db1', host: 'DB1.example.com', port: 5432, tags: ['prod', 'db', 'prod'], description: 'primary' }, { token: user.token });
    expect(created.status).toBe(201);
    const server = created.body.server;
    expect(server).toMatchObject({
      name: 'db1', host: 'db1.example.com', port: 5432, tags: ['prod', 'db'], description: 'primary', os: null,
      status: 'unknown', monitored: false, probe_interval_seconds: null, latency_ms: null, checked_at: null, status_since: null,
      last_seen_at: null, is_local: false,
    });
    expect(Object.keys(server).sort()).toEqual([
      'checked_at', 'created_at', 'description', 'host', 'id', 'is_local', 'last_seen_at', 'latency_ms', 'monitored', 'name', 'os', 'port',
      'probe_interval_seconds', 'status', 'status_since', 'tags', 'updated_at',
    ]);
    const second = await app.post('/servers', { name: 'v6', host: '2001:DB8::1', port: 22, monitored: true, probe_interval_seconds: 120 }, { token: user.token });
    expect(second.status).toBe(201);
    expect(second.body.server).toMatchObject({ host: '2001:db8::1', monitored: true, probe_interval_seconds: 120 });

    const list = await app.get('/servers?limit=1', { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body.pagination).toEqual({ total: 2, page: 1, limit: 1, pages: 2 });
    expect(list.body.servers.map((s: { name: string }) => s.name)).toEqual(['v6']);

    expect((await app.get(`/servers/${server.id}`, { token: user.token })).body.server).toEqual(server);

    const changed = await app.put(`/servers/${server.id}`, { port: 6432, description: null, tags: [], os: 'Debian 12', probe_interval_seconds: 300 }, { token: user.token });
    expect(changed.status).toBe(200);
    expect(changed.body.server).toMatchObject({ name: 'db1', port: 6432, description: null, tags: [], os: 'Debian 12', probe_interval_seconds: 300 });
    expect(Date.parse(changed.body.server.updated_at)).toBeGreaterThanOrEqual(Date.parse(server.updated_at));

    // Samples go with the server.
    await app.query(`INSERT INTO server_metrics (server_id, recorded_at, cpu_percent) VALUES ($1, now(), 1)`, [server.id]);
    const deleted = await app.delete(`/servers/${server.id}`, { token: user.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ success: true });
    expectError(await app.get(`/servers/${server.id}`, { token: user.token }), 404, 'NOT_FOUND');
    expect((await app.query(`SELECT count(*)::int AS n FROM server_metrics WHERE server_id = $1`, [server.id])).rows[0].n).toBe(0);
    expectError(await app.delete(`/servers/${server.id}`, { token: user.token }), 404, 'NOT_FOUND');

    const audited = await app.query(`SELECT action FROM audit_logs WHERE user_id = $1 AND action LIKE 'server.%' ORDER BY created_at`, [user.id]);
    expect(audited.rows.map((r) => r.action)).toEqual(expect.arrayContaining(['server.create', 'server.update', 'server.delete']));
  });

  it('another user\'s server answers 404; an admin reaches it', async () => {
    const { body } = await app.post('/servers', { name: 'mine', host: '203.0.113.7', port: 22 }, { token: user.token });
    const id = body.server.id;
    expectError(await app.get(`/servers/${id}`, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await app.put(`/servers/${id}`, { name: 'x' }, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await app.delete(`/servers/${id}`, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await app.post('/monitor/servers', { server_id: id }, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await app.delete(`/monitor/servers/${id}`, { token: other.token }), 404, 'NOT_FOUND');
    expect((await app.get('/servers', { token: other.token })).body.servers).toEqual([]);
    expect((await app.get(`/servers/${id}`, { token: admin })).status).toBe(200);
    expect((await app.put(`/servers/${id}`, { name: 'renamed by admin' }, { token: admin })).body.server.name).toBe('renamed by admin');
  });

  it('registers the platform\'s own host as local, once, for admins only', async () => {
    const { rows } = await app.query(`SELECT id, user_id, name, host, port, is_local FROM servers WHERE is_local`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ user_id: null, name: 'local', host: '127.0.0.1', is_local: true });
    const local = rows[0].id;

    const adminList = await app.get('/servers', { token: admin });
    expect(adminList.body.servers.filter((s: { is_local: boolean }) => s.is_local).map((s: { id: string }) => s.id)).toEqual([local]);
    expect((await app.get('/servers', { token: user.token })).body.servers.some((s: { is_local: boolean }) => s.is_local)).toBe(false);
    expectError(await app.get(`/servers/${local}`, { token: user.token }), 404, 'NOT_FOUND');
    expect((await app.get(`/servers/${local}`, { token: admin })).body.server).toMatchObject({ name: 'local', is_local: true });
    expectError(await app.delete(`/servers/${local}`, { token: admin }), 409, 'CONFLICT');

    // A second app on the same database (a replica, a restart) does not register another.
    const replica = await TestApp.start({}, { databaseName: app.databaseNameForSharing });
    try {
      expect((await app.query(`SELECT id FROM servers WHERE is_local`)).rows).toEqual([{ id: local }]);
    } finally {
      await replica.stop({ keepDatabase: true });
    }
  });

  it('starts and stops monitoring, idempotently', async () => {
    const { body } = await app.post('/servers', { name: 'watch', host: 'localhost', port: 1 }, { token: user.token });
    const id = body.server.id;
    const started = await app.post('/monitor/servers', { server_id: id.toUpperCase() }, { token: user.token });
    expect(started.status).toBe(201);
    expect(started.body.server).toMatchObject({ id, monitored: true, status: 'unknown' });
    expect((await app.post('/monitor/servers', { server_id: id }, { token: user.token })).body.server.monitored).toBe(true);
    await app.query(`UPDATE servers SET status = 'online', checked_at = now(), status_since = now() WHERE id = $1`, [id]);
    const stopped = await app.delete(`/monitor/servers/${id}`, { token: user.token });
    expect(stopped.status).toBe(200);
    expect(stopped.body.server).toMatchObject({ id, monitored: false, status: 'unknown' });
    expect((await app.delete(`/monitor/servers/${id}`, { token: user.token })).body.server.monitored).toBe(false);
    expectError(await app.post('/monitor/servers', { server_id: MISSING }, { token: user.token }), 404, 'NOT_FOUND');
    expectError(await app.delete(`/monitor/servers/${MISSING}`, { token: user.token }), 404, 'NOT_FOUND');
  });

  it('refuses bad hosts, ports, tags and fields', async () => {
    const base = { name: 'x', host: 'example.com', port: 80 };
    for (const host of ['http://example.com', 'example.com/path', 'example.com:80', 'user@example.com', 'exa mple.com', '', '-bad.com', 'a..b', '999.1.1.1', '[::1]', 'x'.repeat(254), 'a'.repeat(64) + '.com', 42]) {
      expectValidation(await app.post('/servers', { ...base, host }, { token: user.token }), 'host');
    }
    for (const host of ['example.com', 'localhost', '198.51.100.10', '2001:db8::1', 'a-b.c-d.example.', 'xn--bcher-kva.example']) {
      const ok = await app.post('/servers', { ...base, host }, { token: user.token });
      expect([host, ok.status]).toEqual([host, 201]);
    }
    for (const port of [0, 65536, -1, 1.5, '80', null]) expectValidation(await app.post('/servers', { ...base, port }, { token: user.token }), 'port');
    expectValidation(await app.post('/servers', { ...base, tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, { token: user.token }), 'tags');
    expectValidation(await app.post('/servers', { ...base, tags: [''] }, { token: user.token }), 'tags');
    expectValidation(await app.post('/servers', { ...base, tags: ['x'.repeat(51)] }, { token: user.token }), 'tags');
    expectValidation(await app.post('/servers', { ...base, tags: [1] }, { token: user.token }), 'tags');
    expectValidation(await app.post('/servers', { ...base, probe_interval_seconds: 30 }, { token: user.token }), 'probe_interval_seconds');
    expectValidation(await app.post('/servers', { ...base, name: '' }, { token: user.token }), 'name');
    expectValidation(await app.post('/servers', { ...base, status: 'online' }, { token: user.token }), 'status');
    expectValidation(await app.post('/servers', { host: 'example.com' }, { token: user.token }), 'name', 'port');
    const { body } = await app.post('/servers', base, { token: user.token });
    expectValidation(await app.put(`/servers/${body.server.id}`, { host: 'ftp://x' }, { token: user.token }), 'host');
    expectValidation(await app.put(`/servers/${body.server.id}`, { name: null }, { token: user.token }), 'name');
    expectValidation(await app.put(`/servers/${body.server.id}`, { is_local: true }, { token: user.token }), 'is_local');
    expectValidation(await app.get('/servers/not-a-uuid', { token: user.token }), 'id');
    expectValidation(await app.put('/servers/not-a-uuid', {}, { token: user.token }), 'id');
    expectValidation(await app.delete('/servers/not-a-uuid', { token: user.token }), 'id');
    expectValidation(await app.get('/servers?limit=101', { token: user.token }), 'limit');
    expectValidation(await app.post('/monitor/servers', { server_id: 'nope' }, { token: user.token }), 'server_id');
    expectValidation(await app.post('/monitor/servers', {}, { token: user.token }), 'server_id');
    expectValidation(await app.delete('/monitor/servers/nope', { token: user.token }), 'id');
  });

  it('refuses a user\'s server pointed at the platform\'s host, its network or metadata (admins may), on create and update', async () => {
    const base = { name: 'inward', port: 5432 };
    const refused = [
      '127.0.0.1', '127.1.2.3', '0.0.0.0', '::', '::1', '169.254.169.254', 'fe80::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254',
      '::ffff:7f00:1', '64:ff9b::a9fe:a9fe', '100.100.100.200', 'fd00:ec2::254', '224.0.0.1', 'ff02::1', '255.255.255.255',
      '10.0.0.7', '172.16.5.4', '192.168.1.10', '100.64.0.1', 'fd12::1', 'metadata.google.internal', '192.0.2.2',
    ];
    // 192.0.2.2 is an address of the test machine's own, where it has it.
    const own = new Set(Object.values(networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address)));
    for (const host of refused.filter((h) => h !== '192.0.2.2' || own.has(h))) {
      const response = await app.post('/servers', { ...base, host }, { token: user.token });
      expect([host, response.status]).toEqual([host, 400]);
      expectValidation(response, 'host');
    }
    const { body } = await app.post('/servers', { ...base, host: 'db.example.com' }, { token: user.token });
    for (const host of ['127.0.0.1', '::ffff:127.0.0.1', '169.254.169.254', '10.0.0.1']) {
      expectValidation(await app.put(`/servers/${body.server.id}`, { host }, { token: user.token }), 'host');
    }
    // An admin editing a user's server may not point it inward either.
    expectValidation(await app.put(`/servers/${body.server.id}`, { host: '127.0.0.1' }, { token: admin }), 'host');
    expect((await app.get(`/servers/${body.server.id}`, { token: user.token })).body.server.host).toBe('db.example.com');
    // An admin's own servers may be anywhere.
    for (const host of ['127.0.0.1', '::1', '10.0.0.7', '169.254.169.254']) {
      const made = await app.post('/servers', { ...base, host }, { token: admin });
      expect([host, made.status]).toEqual([host, 201]);
      await app.delete(`/servers/${made.body.server.id}`, { token: admin });
    }
    await app.delete(`/servers/${body.server.id}`, { token: user.token });

    // MONITOR_ALLOW_PRIVATE_HOSTS=true lets private ranges through, never loopback or metadata.
    const permissive = await TestApp.start({ MONITOR_ALLOW_PRIVATE_HOSTS: 'true' });
    try {
      const someone = await permissive.registerUser();
      for (const host of ['10.0.0.7', '192.168.1.10', 'fd12::1']) {
        expect([host, (await permissive.post('/servers', { ...base, host }, { token: someone.token })).status]).toEqual([host, 201]);
      }
      for (const host of ['127.0.0.1', '169.254.169.254', '::ffff:127.0.0.1']) {
        expectValidation(await permissive.post('/servers', { ...base, host }, { token: someone.token }), 'host');
      }
    } finally {
      await permissive.stop();
    }
  });

  it('a new host or port resets the probes\' status; other changes keep it', async () => {
    const { body } = await app.post('/servers', { name: 'moving', host: 'a.example.com', port: 22, monitored: true }, { token: user.token });
    const id = body.server.id;
    const seen = async () => {
      await app.query(`UPDATE servers SET status = 'online', checked_at = now(), latency_ms = 1.5, status_since = now() WHERE id = $1`, [id]);
    };
    await seen();
    let changed = await app.put(`/servers/${id}`, { name: 'renamed', host: 'a.example.com', port: 22 }, { token: user.token });
    expect(changed.body.server).toMatchObject({ status: 'online', latency_ms: 1.5 });
    for (const change of [{ host: 'b.example.com' }, { port: 2222 }]) {
      await seen();
      changed = await app.put(`/servers/${id}`, change, { token: user.token });
      expect(changed.status).toBe(200);
      expect(changed.body.server).toMatchObject({ ...change, status: 'unknown', checked_at: null, latency_ms: null, status_since: null, monitored: true });
    }
    await app.delete(`/servers/${id}`, { token: user.token });
  });

  it('caps a user\'s servers at MONITOR_MAX_SERVERS_PER_USER, race-free (403 FORBIDDEN); admins have no cap', async () => {
    const capped = await TestApp.start({ MONITOR_MAX_SERVERS_PER_USER: '3' });
    try {
      const someone = await capped.registerUser();
      const base = { name: 's', host: 'example.com', port: 80 };
      // Five at once: exactly three pass.
      const made = await Promise.all(Array.from({ length: 5 }, () => capped.post('/servers', base, { token: someone.token })));
      expect(made.map((r) => r.status).sort()).toEqual([201, 201, 201, 403, 403]);
      const refused = made.find((r) => r.status === 403)!;
      expectError(refused, 403, 'FORBIDDEN');
      expect(refused.body.error.details).toEqual({ limit: 3, servers: 3 });
      expect(refused.body.error.message).toMatch(/at most 3 servers/);
      // Deleting one frees a slot.
      await capped.delete(`/servers/${made.find((r) => r.status === 201)!.body.server.id}`, { token: someone.token });
      expect((await capped.post('/servers', base, { token: someone.token })).status).toBe(201);
      const capAdmin = await capped.adminToken();
      for (let i = 0; i < 4; i++) expect((await capped.post('/servers', base, { token: capAdmin })).status).toBe(201);
    } finally {
      await capped.stop();
    }
  });

  it('answers 401 without credentials and 403 to an API key (these routes take a session)', async () => {
    const id = (await app.post('/servers', { name: 'k', host: 'example.com', port: 80 }, { token: user.token })).body.server.id;
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/servers'], ['POST', '/servers', { name: 'x', host: 'example.com', port: 80 }], ['GET', `/servers/${id}`],
      ['PUT', `/servers/${id}`, { name: 'y' }], ['DELETE', `/servers/${id}`],
      ['POST', '/monitor/servers', { server_id: id }], ['DELETE', `/monitor/servers/${id}`],
    ];
    for (const [method, path, body] of routes) {
      expectError(await app.request(method, path, { body }), 401, 'UNAUTHORIZED');
      expectError(await app.request(method, path, { body, apiKey: key }), 403, 'FORBIDDEN');
    }
  });
});
