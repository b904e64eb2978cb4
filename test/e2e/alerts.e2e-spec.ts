import { randomUUID } from 'node:crypto';
import { MaintenanceJobs } from '../../src/common/scheduling/maintenance-jobs';
import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';
import { WsClient } from '../support/ws-client';

/**
 * Alert rules (/monitor/alert-rules), their alerts (/monitor/alerts), the
 * maintenance job alerts.evaluate and GET /monitor/dashboard. Samples go
 * straight into server_metrics with chosen timestamps; the job is run by hand
 * (the scheduler is off in tests).
 */

const RULES = '/monitor/alert-rules';
const ALERTS = '/monitor/alerts';
const SECOND = 1000;

interface User {
  id: string;
  token: string;
}

interface Sample {
  /** Seconds before the base time. */
  ago: number;
  cpu?: number;
  memory?: number;
  load?: number;
  net_in?: number;
}

describe('alert rules and alerts', () => {
  let app: TestApp;
  let alice: User;
  let bob: User;
  let adminToken: string;
  let aliceKey: string;

  beforeAll(async () => {
    app = await TestApp.start();
    alice = await app.registerUser();
    bob = await app.registerUser();
    adminToken = await app.adminToken();
    const key = await app.post('/api-keys', { name: 'alerts', scopes: ['profile:read'] }, { token: alice.token });
    expect(key.status).toBe(201);
    aliceKey = key.body.key;
  });

  afterAll(async () => {
    await app?.stop();
  });

  /** A server of the user's, straight in the table (status and probe times as given). */
  async function server(owner: User, fields: { status?: string; monitored?: boolean; checkedAgo?: number; sinceAgo?: number } = {}): Promise<string> {
    const id = randomUUID();
    const now = Date.now();
    await app.query(
      `INSERT INTO servers (id, user_id, name, host, port, status, monitored, checked_at, status_since)
       VALUES ($1, $2, $3, '10.0.0.1', 22, $4, $5, $6, $7)`,
      [
        id, owner.id, `srv-${id.slice(0, 8)}`, fields.status ?? 'unknown', fields.monitored ?? true,
        fields.checkedAgo === undefined ? null : new Date(now - fields.checkedAgo * SECOND),
        fields.sinceAgo === undefined ? null : new Date(now - fields.sinceAgo * SECOND),
      ],
    );
    return id;
  }

  async function samples(serverId: string, list: Sample[], base = Date.now()): Promise<void> {
    for (const s of list) {
      await app.query(
        `INSERT INTO server_metrics (server_id, recorded_at, cpu_percent, memory_percent, disk_percent, network_in_bytes, network_out_bytes, load_1m)
         VALUES ($1, $2, $3, $4, 10, $5, 0, $6)`,
        [serverId, new Date(base - s.ago * SECOND), s.cpu ?? 10, s.memory ?? 10, s.net_in ?? 0, s.load ?? 0.5],
      );
    }
  }

  function evaluate(): Promise<Record<string, unknown>> {
    const job = app.running.app.get(MaintenanceJobs).get('alerts.evaluate');
    if (!job) throw new Error('alerts.evaluate is not registered');
    return job.run(new Date());
  }

  async function rule(owner: User, body: Record<string, unknown>): Promise<string> {
    const response = await app.post(RULES, body, { token: owner.token });
    if (response.status !== 201) throw new Error(`rule not created: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.id;
  }

  async function alertsOf(serverId: string): Promise<Array<Record<string, any>>> {
    const { rows } = await app.query(`SELECT * FROM alerts WHERE server_id = $1 ORDER BY fired_at, id`, [serverId]);
    return rows;
  }

  async function alertNotifications(user: User, serverId: string): Promise<Array<Record<string, any>>> {
    const { rows } = await app.query(
      `SELECT * FROM notifications WHERE user_id = $1 AND type = 'alert' AND data->>'server_id' = $2 ORDER BY created_at, id`,
      [user.id, serverId],
    );
    return rows;
  }

  describe('CRUD', () => {
    it('creates, lists, changes and deletes a rule of mine', async () => {
      const srv = await server(alice);
      const created = await app.post(RULES, { name: ' CPU hot ', metric: 'cpu_percent', operator: 'gt', threshold: 90, duration_s: 300, server_id: srv }, { token: alice.token });

      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(String), name: 'CPU hot', metric: 'cpu_percent', operator: 'gt', threshold: 90, duration_s: 300, server_id: srv, enabled: true,
        created_at: expect.any(String), updated_at: expect.any(String),
      });
      const id = created.body.id;

      const listed = await app.get(RULES, { token: alice.token });
      expect(listed.status).toBe(200);
      expect(listed.body.alert_rules.map((r: { id: string }) => r.id)).toContain(id);
      expect(listed.body.pagination).toEqual({ total: expect.any(Number), page: 1, limit: 20, pages: expect.any(Number) });
      expect((await app.get(RULES, { token: bob.token })).body.alert_rules).toEqual([]);

      const changed = await app.put(`${RULES}/${id}`, { threshold: 95.5, name: null, enabled: false }, { token: alice.token });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ id, name: null, threshold: 95.5, enabled: false, metric: 'cpu_percent', server_id: srv });

      const deleted = await app.delete(`${RULES}/${id}`, { token: alice.token });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ success: true });
      expectError(await app.delete(`${RULES}/${id}`, { token: alice.token }), 404, 'NOT_FOUND');
    });

    it('server_offline takes no operator or threshold; switching metric drops them', async () => {
      const created = await app.post(RULES, { metric: 'server_offline', duration_s: 120 }, { token: alice.token });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ metric: 'server_offline', operator: null, threshold: null, server_id: null, name: null });

      expectValidation(await app.put(`${RULES}/${created.body.id}`, { metric: 'cpu_percent' }, { token: alice.token }), 'operator', 'threshold');
      const switched = await app.put(`${RULES}/${created.body.id}`, { metric: 'load_1m', operator: 'gte', threshold: 4 }, { token: alice.token });
      expect(switched.status).toBe(200);
      expect(switched.body).toMatchObject({ metric: 'load_1m', operator: 'gte', threshold: 4 });
      const back = await app.put(`${RULES}/${created.body.id}`, { metric: 'server_offline' }, { token: alice.token });
      expect(back.body).toMatchObject({ metric: 'server_offline', operator: null, threshold: null });
      await app.delete(`${RULES}/${created.body.id}`, { token: alice.token });
    });

    it('400 VALIDATION_ERROR naming every bad field', async () => {
      const post = (body: unknown) => app.post(RULES, body, { token: alice.token });
      expectValidation(await post({}), 'metric');
      expectValidation(await post({ metric: 'cpu' }), 'metric');
      expectValidation(await post({ metric: 'cpu_percent', operator: 'eq', threshold: 1 }), 'operator');
      expectValidation(await post({ metric: 'cpu_percent', operator: 'gt', threshold: '90' }), 'threshold');
      expectValidation(await post({ metric: 'cpu_percent', operator: 'gt', threshold: 150 }), 'threshold');
      expectValidation(await post({ metric: 'cpu_percent', operator: 'gt', threshold: -1 }), 'threshold');
      expectValidation(await post({ metric: 'cpu_percent' }), 'operator', 'threshold');
      expectValidation(await post({ metric: 'server_offline', operator: 'gt', threshold: 1 }), 'operator', 'threshold');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, duration_s: -1 }), 'duration_s');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, duration_s: 86_401 }), 'duration_s');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, duration_s: 1.5 }), 'duration_s');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, duration_s: null }), 'duration_s');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, server_id: 'abc' }), 'server_id');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, enabled: 'yes' }), 'enabled');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, name: '  ' }), 'name');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, name: 'x'.repeat(101) }), 'name');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, name: 'a\u0000b' }), 'name');
      expectValidation(await post({ metric: 'load_1m', operator: 'gt', threshold: 1, colour: 'red' }), 'colour');
      expectValidation(await post({ metric: 'cpu_percent', operator: 'gt', threshold: 90, duration_s: 'x', server_id: 7 }), 'duration_s', 'server_id');

      const id = await rule(alice, { metric: 'cpu_percent', operator: 'gt', threshold: 90 });
      expectValidation(await app.put(`${RULES}/${id}`, { threshold: 101 }, { token: alice.token }), 'threshold');
      expectValidation(await app.put(`${RULES}/${id}`, { metric: null }, { token: alice.token }), 'metric');
      expectValidation(await app.put(`${RULES}/${id}`, { operator: null }, { token: alice.token }), 'operator');
      expectValidation(await app.put(`${RULES}/${id}`, { enabled: null }, { token: alice.token }), 'enabled');
      expectValidation(await app.put(`${RULES}/not-a-uuid`, { threshold: 1 }, { token: alice.token }), 'id');
      expectValidation(await app.delete(`${RULES}/not-a-uuid`, { token: alice.token }), 'id');
      expectValidation(await app.get(`${RULES}?limit=101`, { token: alice.token }), 'limit');
      expectValidation(await app.get(`${ALERTS}?status=closed`, { token: alice.token }), 'status');
      expectValidation(await app.get(`${ALERTS}?server_id=abc`, { token: alice.token }), 'server_id');
      expectValidation(await app.get(`${ALERTS}?page=0`, { token: alice.token }), 'page');
      expect((await app.get(RULES, { token: alice.token })).body.alert_rules.find((r: { id: string }) => r.id === id)).toMatchObject({ threshold: 90 });
      await app.delete(`${RULES}/${id}`, { token: alice.token });
    });

    it('refuses thresholds too small to mean anything (0 < t < 0.000001) on create and update; 0 and 0.000001 pass', async () => {
      const srv = await server(alice);
      for (const threshold of [1e-50, 5e-7, Number.MIN_VALUE]) {
        expectValidation(await app.post(RULES, { metric: 'cpu_percent', operator: 'gt', threshold, server_id: srv }, { token: alice.token }), 'threshold');
        expectValidation(await app.post(RULES, { metric: 'network_in_bytes', operator: 'gt', threshold, server_id: srv }, { token: alice.token }), 'threshold');
      }
      const id = await rule(alice, { metric: 'load_1m', operator: 'gt', threshold: 0, server_id: srv });
      expect((await app.put(`${RULES}/${id}`, { threshold: 0.000001 }, { token: alice.token })).body.threshold).toBe(0.000001);
      expectValidation(await app.put(`${RULES}/${id}`, { threshold: 1e-50 }, { token: alice.token }), 'threshold');
      expect((await app.get(RULES, { token: alice.token })).body.alert_rules.find((r: { id: string }) => r.id === id).threshold).toBe(0.000001);
      await app.delete(`${RULES}/${id}`, { token: alice.token });
    });

    it('caps a user\'s rules at MONITOR_MAX_ALERT_RULES_PER_USER, race-free (403 FORBIDDEN); admins have no cap', async () => {
      const capped = await TestApp.start({ MONITOR_MAX_ALERT_RULES_PER_USER: '2' });
      try {
        const someone = await capped.registerUser();
        const body = { metric: 'cpu_percent', operator: 'gt', threshold: 90 };
        const made = await Promise.all(Array.from({ length: 4 }, () => capped.post(RULES, body, { token: someone.token })));
        expect(made.map((r) => r.status).sort()).toEqual([201, 201, 403, 403]);
        const refused = made.find((r) => r.status === 403)!;
        expectError(refused, 403, 'FORBIDDEN');
        expect(refused.body.error.details).toEqual({ limit: 2, rules: 2 });
        expect(refused.body.error.message).toMatch(/at most 2 alert rules/);
        await capped.delete(`${RULES}/${made.find((r) => r.status === 201)!.body.id}`, { token: someone.token });
        expect((await capped.post(RULES, body, { token: someone.token })).status).toBe(201);
        const admin = await capped.adminToken();
        for (let i = 0; i < 3; i++) expect((await capped.post(RULES, body, { token: admin })).status).toBe(201);
      } finally {
        await capped.stop();
      }
    });

    it('401 without credentials, 403 for an API key (JWT only)', async () => {
      const id = randomUUID();
      const calls = (options: { token?: string; apiKey?: string }) => [
        app.get(RULES, options),
        app.post(RULES, { metric: 'server_offline' }, options),
        app.put(`${RULES}/${id}`, { duration_s: 1 }, options),
        app.delete(`${RULES}/${id}`, options),
        app.get(ALERTS, options),
        app.get('/monitor/dashboard', options),
      ];
      for (const response of await Promise.all(calls({}))) expectError(response, 401, 'UNAUTHORIZED');
      for (const response of await Promise.all(calls({ apiKey: aliceKey }))) expectError(response, 403, 'FORBIDDEN');
      expect((await app.query(`SELECT count(*)::int AS n FROM alert_rules WHERE user_id = $1 AND metric = 'server_offline' AND duration_s = 0`, [alice.id])).rows[0].n).toBe(0);
    });

    it('404 for someone else\'s rule, an unknown rule, and a server that is not mine', async () => {
      const bobsServer = await server(bob);
      const mine = await server(alice);
      const id = await rule(alice, { metric: 'cpu_percent', operator: 'gt', threshold: 90, server_id: mine });

      expectError(await app.put(`${RULES}/${id}`, { threshold: 1 }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`${RULES}/${id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`${RULES}/${randomUUID()}`, { threshold: 1 }, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`${RULES}/${randomUUID()}`, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.post(RULES, { metric: 'server_offline', server_id: bobsServer }, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.post(RULES, { metric: 'server_offline', server_id: randomUUID() }, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`${RULES}/${id}`, { server_id: bobsServer }, { token: alice.token }), 404, 'NOT_FOUND');
      expect((await app.get(RULES, { token: alice.token })).body.alert_rules.find((r: { id: string }) => r.id === id)).toMatchObject({ server_id: mine, threshold: 90 });

      // An admin reaches anyone's rule.
      const byAdmin = await app.put(`${RULES}/${id}`, { threshold: 80 }, { token: adminToken });
      expect(byAdmin.status).toBe(200);
      expect(byAdmin.body.threshold).toBe(80);
      await app.delete(`${RULES}/${id}`, { token: alice.token });
    });
  });

  describe('evaluation (alerts.evaluate)', () => {
    it('is a registered maintenance job that runs every minute', async () => {
      const listed = await app.get('/admin/maintenance/jobs', { token: adminToken });
      expect(listed.body.jobs.find((j: { name: string }) => j.name === 'alerts.evaluate')).toMatchObject({ schedule: '* * * * *' });
      const run = await app.post('/admin/maintenance/jobs/alerts.evaluate/run', undefined, { token: adminToken });
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({ status: 'succeeded', output: { opened: expect.any(Number), resolved: expect.any(Number) } });
    });

    it('one spike does not fire; the condition held for duration_s does, once; it resolves when the condition stops', async () => {
      const srv = await server(alice);
      await rule(alice, { metric: 'cpu_percent', operator: 'gt', threshold: 90, duration_s: 120, server_id: srv });
      const base = Date.now();
      await samples(srv, [{ ago: 240, cpu: 50 }, { ago: 180, cpu: 50 }, { ago: 120, cpu: 50 }, { ago: 60, cpu: 50 }, { ago: 0, cpu: 99 }], base);

      await evaluate();
      expect(await alertsOf(srv)).toEqual([]);

      // Hot for 60 s only: still no.
      await samples(srv, [{ ago: -60, cpu: 97 }], base);
      await evaluate();
      expect(await alertsOf(srv)).toEqual([]);

      // Hot from t to t+120: every sample since one at or before latest - 120 is over 90.
      await samples(srv, [{ ago: -120, cpu: 95.5 }], base);
      await evaluate();
      await evaluate();
      await Promise.all([evaluate(), evaluate(), evaluate()]);
      const fired = await alertsOf(srv);
      expect(fired).toHaveLength(1);
      expect(fired[0]).toMatchObject({ status: 'open', metric: 'cpu_percent', operator: 'gt', threshold: 90, duration_s: 120, value: 95.5, user_id: alice.id });
      expect(fired[0].message).toBe('cpu_percent > 90 for 120 s (latest 95.5)');
      expect(new Date(fired[0].started_at).getTime()).toBe(base);

      // The partial unique index refuses a second open alert of one rule and server, whoever inserts it.
      await expect(app.query(
        `INSERT INTO alerts (id, rule_id, server_id, user_id, metric, operator, threshold, duration_s, value, message, started_at)
         SELECT $1, rule_id, server_id, user_id, metric, operator, threshold, duration_s, value, message, started_at FROM alerts WHERE id = $2`,
        [randomUUID(), fired[0].id],
      )).rejects.toMatchObject({ code: '23505', constraint: 'alerts_one_open_idx' });

      const notified = await alertNotifications(alice, srv);
      expect(notified).toHaveLength(1);
      expect(notified[0].title).toContain('Alert on');
      expect(notified[0].data).toMatchObject({ kind: 'alert_rule', alert_id: fired[0].id, server_id: srv, status: 'open', metric: 'cpu_percent' });

      const listed = await app.get(`${ALERTS}?status=open&server_id=${srv}`, { token: alice.token });
      expect(listed.status).toBe(200);
      expect(listed.body.alerts).toEqual([
        expect.objectContaining({ id: fired[0].id, status: 'open', server_id: srv, value: 95.5, resolved_at: null, resolution: null }),
      ]);
      expect((await app.get(`${ALERTS}?server_id=${srv}`, { token: bob.token })).body.alerts).toEqual([]);

      // Cooler: the latest sample fails the condition.
      await samples(srv, [{ ago: -150, cpu: 40 }], base);
      await Promise.all([evaluate(), evaluate()]);
      const resolved = await alertsOf(srv);
      expect(resolved).toHaveLength(1);
      expect(resolved[0]).toMatchObject({ status: 'resolved', resolution: 'recovered' });
      expect(resolved[0].resolved_at).not.toBeNull();
      const after = await alertNotifications(alice, srv);
      expect(after).toHaveLength(2);
      expect(after[1].title).toContain('Resolved on');
      expect((await app.get(`${ALERTS}?status=resolved&server_id=${srv}`, { token: alice.token })).body.alerts).toHaveLength(1);
      expect((await app.get(`${ALERTS}?status=open&server_id=${srv}`, { token: alice.token })).body.alerts).toEqual([]);
    });

    it('compares in double precision: a stored threshold real cannot hold breaks nobody\'s evaluation; 90.1 >= 90.1 holds', async () => {
      const tiny = await server(bob);
      const exact = await server(alice);
      await samples(tiny, [{ ago: 5, cpu: 0.5, load: 0 }]);
      await samples(exact, [{ ago: 5, cpu: 90.1 }]);
      // A rule stored before thresholds were checked: real underflows on 1e-50.
      const legacy = await rule(bob, { metric: 'cpu_percent', operator: 'gt', threshold: 1, server_id: tiny });
      await app.query(`UPDATE alert_rules SET threshold = 1e-50 WHERE id = $1`, [legacy]);
      const onLoad = await rule(bob, { metric: 'load_1m', operator: 'gt', threshold: 1, server_id: tiny });
      await app.query(`UPDATE alert_rules SET threshold = 1e-50 WHERE id = $1`, [onLoad]);
      await rule(alice, { metric: 'cpu_percent', operator: 'gte', threshold: 90.1, server_id: exact });
      await evaluate();
      expect((await alertsOf(tiny)).map((a) => [a.rule_id, a.status])).toEqual([[legacy, 'open']]);
      expect((await alertsOf(exact)).map((a) => a.status)).toEqual(['open']);
    });

    it('two replicas evaluating at once open one alert and tell the owner once', async () => {
      const second = await TestApp.start({}, { databaseName: app.databaseNameForSharing });
      try {
        const ivy = await app.registerUser();
        const srv = await server(ivy);
        await samples(srv, [{ ago: 60, cpu: 99 }, { ago: 0, cpu: 99 }]);
        await rule(ivy, { metric: 'cpu_percent', operator: 'gte', threshold: 99, duration_s: 60, server_id: srv });
        const otherJob = second.running.app.get(MaintenanceJobs).get('alerts.evaluate')!;
        await Promise.all([evaluate(), otherJob.run(new Date()), evaluate(), otherJob.run(new Date())]);
        expect(await alertsOf(srv)).toEqual([expect.objectContaining({ status: 'open', value: 99 })]);
        expect(await alertNotifications(ivy, srv)).toHaveLength(1);
      } finally {
        await second.stop({ keepDatabase: true });
      }
    });

    it('through the real paths: a server made with POST /servers, samples pushed by an agent key (metrics:write)', async () => {
      const gina = await app.registerUser();
      const made = await app.post('/servers', { name: 'web-1', host: 'web-1.example.test', port: 22 }, { token: gina.token });
      expect(made.status).toBe(201);
      const srv: string = made.body.server.id;
      const key = await app.post('/api-keys', { name: 'agent', scopes: ['metrics:write'] }, { token: gina.token });
      expect(key.status).toBe(201);
      await rule(gina, { metric: 'disk_percent', operator: 'gte', threshold: 80, duration_s: 120, server_id: srv });
      const now = Date.now();
      const push = (agos: number[], disk: number) =>
        app.post(`/monitor/servers/${srv}/metrics`, {
          samples: agos.map((ago) => ({
            timestamp: new Date(now - ago * SECOND).toISOString(), cpu_percent: 5, memory_percent: 5, disk_percent: disk,
            network_in_bytes: 0, network_out_bytes: 0, load_1m: 0.1,
          })),
        }, { apiKey: key.body.key });

      const socket = WsClient.connect(app.url, `/api/v1/ws?token=${encodeURIComponent(gina.token)}`);
      await socket.nextOfType('authenticated');
      socket.send({ type: 'subscribe', channel: `server:${srv}` });
      await socket.nextOfType('subscribed', `server:${srv}`);

      expect((await push([60, 0], 85)).status).toBe(201);
      await evaluate();
      expect(await alertsOf(srv)).toEqual([]);

      expect((await push([180, 120], 90)).status).toBe(201);
      await evaluate();
      const fired = await alertsOf(srv);
      expect(fired).toEqual([expect.objectContaining({ status: 'open', metric: 'disk_percent', value: 85 })]);
      const notified = await alertNotifications(gina, srv);
      expect(notified).toHaveLength(1);
      expect(notified[0].title).toBe('Alert on “web-1”: disk_percent >= 80 for 120 s (latest 85)');
      const listed = await app.get('/notifications', { token: gina.token });
      expect(listed.body.notifications[0]).toMatchObject({ type: 'alert', data: expect.objectContaining({ alert_id: fired[0].id }) });
      const update = await socket.next((m) => m.type === 'update' && m.channel === `server:${srv}` && m.payload?.alert !== undefined);
      expect(update.payload).toEqual({ server_id: srv, alert: expect.objectContaining({ id: fired[0].id, status: 'open', metric: 'disk_percent', value: 85 }) });
      socket.close();

      // Deleting the server takes its rule and alerts with it.
      expect((await app.delete(`/servers/${srv}`, { token: gina.token })).status).toBe(200);
      expect(await alertsOf(srv)).toEqual([]);
      expect((await app.get(RULES, { token: gina.token })).body.alert_rules).toEqual([]);
    });

    it('samples that do not span duration_s do not fire; duration_s 0 fires on the latest sample alone', async () => {
      const srv = await server(alice);
      await samples(srv, [{ ago: 60, load: 8 }, { ago: 0, load: 8 }]);
      await rule(alice, { metric: 'load_1m', operator: 'gte', threshold: 8, duration_s: 120, server_id: srv });
      await evaluate();
      expect(await alertsOf(srv)).toEqual([]);

      await rule(alice, { metric: 'load_1m', operator: 'gte', threshold: 8, duration_s: 0, server_id: srv });
      await evaluate();
      const fired = await alertsOf(srv);
      expect(fired).toHaveLength(1);
      expect(fired[0]).toMatchObject({ duration_s: 0, operator: 'gte', value: 8 });
    });

    it('lt and byte metrics; a rule without server_id covers all my servers and nobody else\'s; a stale sample is no evidence', async () => {
      const carol = await app.registerUser();
      const one = await server(carol);
      const two = await server(carol);
      const stale = await server(carol);
      const bobs = await server(bob);
      for (const srv of [one, two, bobs]) await samples(srv, [{ ago: 30, memory: 5, net_in: 10 }, { ago: 0, memory: 4, net_in: 10 }]);
      await samples(stale, [{ ago: 3600, memory: 1 }, { ago: 3000, memory: 1 }]);
      await rule(carol, { metric: 'memory_percent', operator: 'lt', threshold: 10, duration_s: 30 });
      await rule(carol, { metric: 'network_in_bytes', operator: 'gt', threshold: 100 });
      await evaluate();

      for (const srv of [one, two]) expect((await alertsOf(srv)).map((a) => a.metric)).toEqual(['memory_percent']);
      expect(await alertsOf(bobs)).toEqual([]);
      expect(await alertsOf(stale)).toEqual([]);
      const mine = await app.get(`${ALERTS}?status=open&limit=1`, { token: carol.token });
      expect(mine.body.alerts).toHaveLength(1);
      expect(mine.body.pagination).toEqual({ total: 2, page: 1, limit: 1, pages: 2 });
    });

    it('an admin\'s rule without server_id covers the platform\'s local server; a user\'s does not', async () => {
      const { rows } = await app.query(`SELECT id FROM servers WHERE is_local`);
      expect(rows).toHaveLength(1);
      const local: string = rows[0].id;
      await samples(local, [{ ago: 0, load: 123 }]);
      const harry = await app.registerUser();
      const adminRule = await app.post(RULES, { metric: 'load_1m', operator: 'gt', threshold: 122 }, { token: adminToken });
      expect(adminRule.status).toBe(201);
      await rule(harry, { metric: 'load_1m', operator: 'gt', threshold: 122 });
      expectError(await app.post(RULES, { metric: 'server_offline', server_id: local }, { token: harry.token }), 404, 'NOT_FOUND');
      await evaluate();

      const onLocal = await alertsOf(local);
      expect(onLocal.filter((a) => a.rule_id === adminRule.body.id && a.status === 'open')).toHaveLength(1);
      expect(onLocal.filter((a) => a.user_id === harry.id)).toEqual([]);
      await app.delete(`${RULES}/${adminRule.body.id}`, { token: adminToken });
    });

    it('server_offline fires once the probes have said offline for duration_s, and resolves when the server is back', async () => {
      const dave = await app.registerUser();
      const down = await server(dave, { status: 'offline', checkedAgo: 0, sinceAgo: 600 });
      const justDown = await server(dave, { status: 'offline', checkedAgo: 0, sinceAgo: 60 });
      const unwatched = await server(dave, { status: 'offline', monitored: false, checkedAgo: 0, sinceAgo: 600 });
      await rule(dave, { metric: 'server_offline', duration_s: 300 });
      await evaluate();

      const fired = await alertsOf(down);
      expect(fired).toHaveLength(1);
      expect(fired[0]).toMatchObject({ status: 'open', metric: 'server_offline', operator: null, threshold: null });
      expect(fired[0].value).toBeCloseTo(600, 0);
      expect(fired[0].message).toBe('offline for 600 s');
      expect(await alertsOf(justDown)).toEqual([]);
      expect(await alertsOf(unwatched)).toEqual([]);
      expect(await alertNotifications(dave, down)).toHaveLength(1);

      await app.query(`UPDATE servers SET status = 'online', status_since = now(), checked_at = now() WHERE id = $1`, [down]);
      await evaluate();
      expect(await alertsOf(down)).toEqual([expect.objectContaining({ status: 'resolved', resolution: 'recovered' })]);
      expect(await alertNotifications(dave, down)).toHaveLength(2);
    });

    it('disabling, changing or deleting a rule resolves its open alerts; deleted rules\' alerts stay as history', async () => {
      const erin = await app.registerUser();
      const srv = await server(erin);
      await samples(srv, [{ ago: 0, cpu: 99 }]);
      const id = await rule(erin, { metric: 'cpu_percent', operator: 'gt', threshold: 90, server_id: srv });
      await evaluate();
      expect(await alertsOf(srv)).toEqual([expect.objectContaining({ status: 'open' })]);

      await app.put(`${RULES}/${id}`, { enabled: false }, { token: erin.token });
      expect((await alertsOf(srv))[0]).toMatchObject({ status: 'resolved', resolution: 'rule_disabled' });
      await evaluate();
      expect(await alertsOf(srv)).toHaveLength(1);

      await app.put(`${RULES}/${id}`, { enabled: true }, { token: erin.token });
      await evaluate();
      expect((await alertsOf(srv)).map((a) => a.status)).toEqual(['resolved', 'open']);

      await app.put(`${RULES}/${id}`, { threshold: 95 }, { token: erin.token });
      expect((await alertsOf(srv)).map((a) => a.resolution)).toEqual(['rule_disabled', 'rule_changed']);
      await evaluate();
      expect((await alertsOf(srv)).map((a) => a.status)).toEqual(['resolved', 'resolved', 'open']);

      expect((await app.delete(`${RULES}/${id}`, { token: erin.token })).status).toBe(200);
      const history = await alertsOf(srv);
      expect(history.map((a) => [a.status, a.rule_id])).toEqual([['resolved', null], ['resolved', null], ['resolved', null]]);
      expect(history[2].resolution).toBe('rule_deleted');
      const listed = await app.get(ALERTS, { token: erin.token });
      expect(listed.body.alerts).toHaveLength(3);
      expect(listed.body.alerts[0]).toMatchObject({ rule_id: null, resolution: 'rule_deleted' });
      // Only firing and recovery notify: 3 openings, no resolution by the owner's own doing.
      expect((await alertNotifications(erin, srv)).map((n) => n.data.status)).toEqual(['open', 'open', 'open']);
    });
  });

  describe('GET /monitor/dashboard', () => {
    it('answers my stats, my newest open alerts and my recent activity', async () => {
      const frank = await app.registerUser();
      const srv = await server(frank);
      await samples(srv, [{ ago: 0, cpu: 99 }]);
      await rule(frank, { metric: 'cpu_percent', operator: 'gt', threshold: 90, server_id: srv });
      await evaluate();

      const response = await app.get('/monitor/dashboard', { token: frank.token });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['alerts', 'recent_activities', 'stats']);
      expect(response.body.stats).toEqual(expect.any(Object));
      expect(response.body.alerts).toEqual([expect.objectContaining({ server_id: srv, status: 'open' })]);
      expect(response.body.recent_activities[0]).toMatchObject({ action: 'alert_rule.create', resource_type: 'alert_rule', status_code: 201 });
      expectValidation(await app.get('/monitor/dashboard?x=1', { token: frank.token }), 'x');
    });
  });
});
