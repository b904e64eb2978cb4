import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * The audit log end to end: what every state-changing request records (and what
 * reads and secrets never do), /admin/logs with its filters, stats and value
 * lists, /profile/logs (the caller's own entries only), and partition pruning
 * for a one-day query. Entries are buffered and COPYed every 50 ms in tests, so
 * assertions poll the table (up to 3 s) instead of expecting them at once.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const RUN = Math.random().toString(36).slice(2, 10);
const USER_AGENT = `CodeRunner-AuditE2E/1.0 (run ${RUN})`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let sequence = 0;
/** A distinctive X-Request-Id plus the distinctive User-Agent, to find the entry again. */
function caller(tag: string): { requestId: string; headers: Record<string, string> } {
  const requestId = `audit-e2e-${RUN}-${tag}-${++sequence}`;
  return { requestId, headers: { 'user-agent': USER_AGENT, 'x-request-id': requestId } };
}

type Row = Record<string, any>;

describe('Audit log', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** Polls until at least `count` rows match (up to 3 s); returns what is there then. */
  async function waitForRows(where: string, params: unknown[], count = 1): Promise<Row[]> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const { rows } = await app.query(`SELECT * FROM audit_logs WHERE ${where} ORDER BY created_at, id`, params);
      if (rows.length >= count || Date.now() > deadline) return rows;
      await sleep(25);
    }
  }

  /** The one entry written for the request with this X-Request-Id. */
  async function entryFor(requestId: string): Promise<Row> {
    const rows = await waitForRows('request_id = $1', [requestId]);
    expect(rows).toHaveLength(1);
    return rows[0];
  }

  /** Waits for every one of these requests' entries. */
  async function entriesFor(requestIds: string[]): Promise<Row[]> {
    const rows = await waitForRows('request_id = ANY($1)', [requestIds], requestIds.length);
    expect(rows.map((r) => r.request_id).sort()).toEqual([...requestIds].sort());
    return rows;
  }

  function expectClient(row: Row, requestId: string): void {
    expect(row.ip).toBe('127.0.0.1');
    expect(row.user_agent).toBe(USER_AGENT);
    expect(row.request_id).toBe(requestId);
    expect(row.created_at).toBeInstanceOf(Date);
    expect(Math.abs(Date.now() - (row.created_at as Date).getTime())).toBeLessThan(60_000);
  }

  async function register(tag = 'register') {
    const c = caller(tag);
    const n = `${RUN}${++sequence}`;
    const input = { username: `audit_${n}`, email: `audit_${n}@example.test`, password: `pw-${n}-secret` };
    const response = await app.post('/auth/register', input, { headers: c.headers });
    if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
    return {
      ...input,
      requestId: c.requestId,
      id: response.body.user.id as string,
      token: response.body.tokens.access as string,
      refresh: response.body.tokens.refresh as string,
    };
  }

  async function createKey(token: string, name = 'audit key') {
    const c = caller('api-key');
    const response = await app.post('/api-keys', { name }, { token, headers: c.headers });
    if (response.status !== 201) throw new Error(`create key failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { requestId: c.requestId, id: response.body.id as string, key: response.body.key as string };
  }

  async function adminLogs(query: string, token = admin): Promise<ApiResponse> {
    return app.get(`/admin/logs${query}`, { token });
  }

  describe('what is recorded', () => {
    it('registration: user.register with the new user, IP, user agent and request id', async () => {
      const user = await register();

      const row = await entryFor(user.requestId);
      expect(row).toMatchObject({
        action: 'user.register',
        user_id: user.id,
        resource_type: 'user',
        resource_id: user.id,
        status_code: 201,
        method: 'POST',
        path: '/api/v1/auth/register',
      });
      expectClient(row, user.requestId);
      expect(row.metadata.username).toBe(user.username);
    });

    it('login: user.login with the user and status 200', async () => {
      const user = await register();
      const c = caller('login');

      const response = await app.post('/auth/login', { username: user.username, password: user.password }, { headers: c.headers });
      expect(response.status).toBe(200);

      const row = await entryFor(c.requestId);
      expect(row).toMatchObject({
        action: 'user.login',
        user_id: user.id,
        resource_type: 'user',
        resource_id: user.id,
        status_code: 200,
        method: 'POST',
        path: '/api/v1/auth/login',
      });
      expectClient(row, c.requestId);
    });

    it('failed login: user.login, 401, no user, the username and error code in metadata', async () => {
      const user = await register();
      const c = caller('failed-login');

      expectError(await app.post('/auth/login', { username: user.username, password: 'not-the-password' }, { headers: c.headers }), 401, 'INVALID_CREDENTIALS');

      const row = await entryFor(c.requestId);
      expect(row).toMatchObject({ action: 'user.login', user_id: null, status_code: 401, method: 'POST', path: '/api/v1/auth/login' });
      expect(row.metadata.username).toBe(user.username);
      expect(row.metadata.error_code).toBe('INVALID_CREDENTIALS');
      expectClient(row, c.requestId);
    });

    it('API key creation: api_key.create with the key id as resource', async () => {
      const user = await register();
      const key = await createKey(user.token, 'audited key');

      const row = await entryFor(key.requestId);
      expect(row).toMatchObject({
        action: 'api_key.create',
        user_id: user.id,
        resource_type: 'api_key',
        resource_id: key.id,
        status_code: 201,
        method: 'POST',
        path: '/api/v1/api-keys',
      });
      expect(row.metadata.name).toBe('audited key');
      expectClient(row, key.requestId);
    });

    it('PUT and DELETE are recorded with the route id as resource', async () => {
      const user = await register();
      const key = await createKey(user.token);
      const toggle = caller('toggle');
      const remove = caller('delete');

      expect((await app.put(`/api-keys/${key.id}/toggle`, { enabled: false }, { token: user.token, headers: toggle.headers })).status).toBe(200);
      expect((await app.delete(`/api-keys/${key.id}`, { token: user.token, headers: remove.headers })).status).toBe(200);

      const toggled = await entryFor(toggle.requestId);
      expect(toggled).toMatchObject({ action: 'api_key.toggle', user_id: user.id, resource_type: 'api_key', resource_id: key.id, status_code: 200, method: 'PUT' });
      expectClient(toggled, toggle.requestId);
      const deleted = await entryFor(remove.requestId);
      expect(deleted).toMatchObject({ action: 'api_key.delete', user_id: user.id, resource_type: 'api_key', resource_id: key.id, status_code: 200, method: 'DELETE' });
      expectClient(deleted, remove.requestId);
    });

    it('a validation failure (400) is recorded with its error code', async () => {
      const c = caller('bad-register');

      expectValidation(await app.post('/auth/register', { username: `bad_${RUN}`, email: 'not-an-email', password: 'password-123' }, { headers: c.headers }), 'email');

      const row = await entryFor(c.requestId);
      expect(row).toMatchObject({ action: 'user.register', user_id: null, status_code: 400, method: 'POST', path: '/api/v1/auth/register' });
      expect(row.metadata.error_code).toBe('VALIDATION_ERROR');
      expectClient(row, c.requestId);
    });

    it('a NUL character (in a route parameter, or \\u0000 in a JSON body) is stored as U+FFFD instead of failing the whole COPY batch', async () => {
      const user = await register();
      const nulParam = caller('nul-param');
      const nulBody = caller('nul-body');
      const after = caller('after-nul');

      // COPY refuses NUL in text and \u0000 in jsonb: one such row used to fail its batch, and every retry of it.
      const paramResponse = await app.delete('/api-keys/a%00b', { token: user.token, headers: nulParam.headers });
      // Refused by the guard (401): what it sent is not recorded, only that it was refused.
      const bodyResponse = await app.post('/api-keys', { name: 'a\u0000b' }, { headers: nulBody.headers });
      expect((await app.post('/auth/login', { username: user.username, password: 'not-the-password' }, { headers: after.headers })).status).toBe(401);

      expect(await entryFor(nulParam.requestId)).toMatchObject({ action: 'api_key.delete', status_code: paramResponse.status, resource_id: 'a\uFFFDb' });
      const bodyRow = await entryFor(nulBody.requestId);
      expect(bodyRow).toMatchObject({ action: 'api_key.create', status_code: bodyResponse.status });
      expect(bodyRow.metadata).toEqual({ error_code: 'UNAUTHORIZED' });
      await entryFor(after.requestId);
    });

    it('a POST refused by the guard (no token, 401) is recorded without a user', async () => {
      const c = caller('no-token');

      expectError(await app.post('/api-keys', { name: 'nope' }, { headers: c.headers }), 401, 'UNAUTHORIZED');

      const row = await entryFor(c.requestId);
      expect(row).toMatchObject({
        action: 'api_key.create',
        resource_type: 'api_key',
        user_id: null,
        status_code: 401,
        method: 'POST',
        path: '/api/v1/api-keys',
      });
      expect(row.metadata.error_code).toBe('UNAUTHORIZED');
      expectClient(row, c.requestId);
    });

    it('a POST to an unknown route (404) is recorded', async () => {
      const c = caller('unknown-route');

      expectError(await app.post(`/no-such-route-${RUN}`, { a: 1 }, { headers: c.headers }), 404, 'NOT_FOUND');

      const row = await entryFor(c.requestId);
      expect(row).toMatchObject({ user_id: null, status_code: 404, method: 'POST', path: `/api/v1/no-such-route-${RUN}` });
      expect(row.action).toMatch(/^[a-z_]+\.[a-z_]+$/);
      expect(row.metadata.error_code).toBe('NOT_FOUND');
      expectClient(row, c.requestId);
    });

    it('reads (GET) are not recorded, whatever their outcome', async () => {
      const user = await register();
      const gets = [caller('get-me'), caller('get-keys'), caller('get-admin-logs'), caller('get-unknown'), caller('get-anonymous')];

      expect((await app.get('/users/me', { token: user.token, headers: gets[0].headers })).status).toBe(200);
      expect((await app.get('/api-keys', { token: user.token, headers: gets[1].headers })).status).toBe(200);
      expect((await app.get('/admin/logs', { token: admin, headers: gets[2].headers })).status).toBe(200);
      expect((await app.get(`/no-such-route-${RUN}`, { headers: gets[3].headers })).status).toBe(404);
      expect((await app.get('/users/me', { headers: gets[4].headers })).status).toBe(401);
      // A later write: once its entry is in, anything buffered before it is too.
      const marker = caller('marker');
      expect((await app.post('/auth/test-token', undefined, { token: user.token, headers: marker.headers })).status).toBe(200);
      await entryFor(marker.requestId);

      const { rows } = await app.query(`SELECT request_id FROM audit_logs WHERE request_id = ANY($1)`, [gets.map((g) => g.requestId)]);
      expect(rows).toEqual([]);
      const { rows: getRows } = await app.query(`SELECT count(*)::int AS count FROM audit_logs WHERE method IN ('GET', 'HEAD', 'OPTIONS')`);
      expect(getRows[0].count).toBe(0);
    });

    it('never stores passwords, tokens, refresh tokens or API keys', async () => {
      const user = await register('secret-register');
      const ids = [user.requestId];
      const wrongPassword = `wrong-${RUN}-Pa55word`;
      const newPassword = `new-${RUN}-Pa55word`;

      const login = caller('secret-login');
      const loggedIn = await app.post('/auth/login', { username: user.username, password: user.password }, { headers: login.headers });
      expect(loggedIn.status).toBe(200);
      ids.push(login.requestId);

      const failed = caller('secret-failed');
      expect((await app.post('/auth/login', { username: user.username, password: wrongPassword }, { headers: failed.headers })).status).toBe(401);
      ids.push(failed.requestId);

      const oauth = caller('secret-oauth');
      const oauthResponse = await app.request('POST', '/auth/token', {
        form: { username: user.username, password: user.password, grant_type: 'password' },
        headers: oauth.headers,
      });
      expect(oauthResponse.status).toBe(200);
      ids.push(oauth.requestId);

      const refresh = caller('secret-refresh');
      const refreshed = await app.post('/auth/refresh', { refresh_token: loggedIn.body.tokens.refresh }, { headers: refresh.headers });
      expect(refreshed.status).toBe(200);
      ids.push(refresh.requestId);

      const key = await createKey(user.token, 'secret key');
      ids.push(key.requestId);

      const change = caller('secret-change');
      expect(
        (await app.post('/auth/change-password', { current_password: user.password, new_password: newPassword }, { token: user.token, headers: change.headers })).status,
      ).toBe(200);
      ids.push(change.requestId);

      await entriesFor(ids);
      const secrets: Record<string, string> = {
        'registration password': user.password,
        'wrong password': wrongPassword,
        'new password': newPassword,
        'register access token': user.token,
        'register refresh token': user.refresh,
        'register refresh secret': user.refresh.split('.').slice(1).join('.'),
        'login access token': loggedIn.body.tokens.access,
        'login refresh token': loggedIn.body.tokens.refresh,
        'login refresh secret': String(loggedIn.body.tokens.refresh).split('.').slice(1).join('.'),
        'oauth access token': oauthResponse.body.access_token,
        'oauth refresh token': oauthResponse.body.refresh_token,
        'rotated access token': refreshed.body.tokens.access,
        'rotated refresh token': refreshed.body.tokens.refresh,
        'rotated refresh secret': String(refreshed.body.tokens.refresh).split('.').slice(1).join('.'),
        'api key': key.key,
      };
      // Every secret was really captured from the responses (a missing one would make the search vacuous).
      const missing = Object.entries(secrets).filter(([, value]) => typeof value !== 'string' || value.length < 8).map(([name]) => name);
      expect(missing).toEqual([]);

      const { rows } = await app.query(`SELECT a::text AS row FROM audit_logs a`);
      const everything = rows.map((r) => r.row as string).join('\n');
      expect(everything).toContain(user.username); // the search is over the right data
      const leaked = Object.entries(secrets).filter(([, value]) => everything.includes(value)).map(([name]) => name);
      expect(leaked).toEqual([]);
    });
  });

  describe('GET /admin/logs', () => {
    let alice: Awaited<ReturnType<typeof register>>;
    let aliceKey: { requestId: string; id: string; key: string };
    let failedId: string;
    let noTokenId: string;
    let notFoundId: string;
    let startedAt: Date;

    beforeAll(async () => {
      await sleep(20);
      startedAt = new Date();
      alice = await register('alice');
      aliceKey = await createKey(alice.token);
      const failed = caller('alice-failed');
      expect((await app.post('/auth/login', { username: alice.username, password: 'wrong-password' }, { headers: failed.headers })).status).toBe(401);
      failedId = failed.requestId;
      const noToken = caller('alice-no-token');
      expect((await app.post('/api-keys', { name: 'x' }, { headers: noToken.headers })).status).toBe(401);
      noTokenId = noToken.requestId;
      const notFound = caller('alice-404');
      expect((await app.post(`/nothing-here-${RUN}`, {}, { headers: notFound.headers })).status).toBe(404);
      notFoundId = notFound.requestId;
      await entriesFor([alice.requestId, aliceKey.requestId, failedId, noTokenId, notFoundId]);
    });

    it('lists entries newest first as {logs, pagination}', async () => {
      const response = await adminLogs('');
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['logs', 'pagination']);
      const { logs, pagination } = response.body;
      expect(pagination).toEqual({ total: expect.any(Number), page: 1, limit: 20, pages: Math.ceil(pagination.total / 20) });
      expect(pagination.total).toBeGreaterThanOrEqual(5);
      expect(logs.length).toBe(Math.min(20, pagination.total));
      const times = logs.map((l: any) => Date.parse(l.created_at));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      const entry = logs.find((l: any) => l.request_id === aliceKey.requestId) ?? (await adminLogs(`?user_id=${alice.id}&action=api_key.create`)).body.logs[0];
      expect(entry).toEqual({
        id: expect.stringMatching(UUID),
        created_at: expect.stringMatching(ISO),
        user_id: alice.id,
        action: 'api_key.create',
        resource_type: 'api_key',
        resource_id: aliceKey.id,
        status_code: 201,
        method: 'POST',
        path: '/api/v1/api-keys',
        ip: '127.0.0.1',
        user_agent: USER_AGENT,
        request_id: aliceKey.requestId,
        duration_ms: expect.any(Number),
        metadata: expect.objectContaining({ name: 'audit key' }),
      });
    });

    it('filters by user_id', async () => {
      const response = await adminLogs(`?user_id=${alice.id}`);
      expect(response.status).toBe(200);
      expect(response.body.logs.map((l: any) => l.request_id).sort()).toEqual([alice.requestId, aliceKey.requestId].sort());
      expect(response.body.logs.every((l: any) => l.user_id === alice.id)).toBe(true);
      expect(response.body.pagination.total).toBe(2);
    });

    it('filters by action', async () => {
      const response = await adminLogs('?action=user.login&limit=100');
      expect(response.status).toBe(200);
      expect(response.body.logs.length).toBeGreaterThan(0);
      expect(response.body.logs.every((l: any) => l.action === 'user.login')).toBe(true);
      expect(response.body.logs.map((l: any) => l.request_id)).toContain(failedId);
      const { rows } = await app.query(`SELECT count(*)::int AS count FROM audit_logs WHERE action = 'user.login'`);
      expect(response.body.pagination.total).toBe(rows[0].count);

      const combined = await adminLogs(`?action=user.register&user_id=${alice.id}`);
      expect(combined.body.logs.map((l: any) => l.request_id)).toEqual([alice.requestId]);
      expect((await adminLogs(`?action=no.such_action`)).body).toEqual({ logs: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
    });

    it('filters by resource_type', async () => {
      const response = await adminLogs('?resource_type=api_key&limit=100');
      expect(response.status).toBe(200);
      expect(response.body.logs.every((l: any) => l.resource_type === 'api_key')).toBe(true);
      expect(response.body.logs.map((l: any) => l.request_id)).toEqual(expect.arrayContaining([aliceKey.requestId, noTokenId]));
      const { rows } = await app.query(`SELECT count(*)::int AS count FROM audit_logs WHERE resource_type = 'api_key'`);
      expect(response.body.pagination.total).toBe(rows[0].count);
    });

    it('filters by an exact status and by a status class', async () => {
      const exact = await adminLogs('?status=401&limit=100');
      expect(exact.status).toBe(200);
      expect(exact.body.logs.every((l: any) => l.status_code === 401)).toBe(true);
      expect(exact.body.logs.map((l: any) => l.request_id)).toEqual(expect.arrayContaining([failedId, noTokenId]));
      expect(exact.body.logs.map((l: any) => l.request_id)).not.toContain(notFoundId);

      const errors = await adminLogs('?status=4xx&limit=100');
      expect(errors.status).toBe(200);
      expect(errors.body.logs.every((l: any) => l.status_code >= 400 && l.status_code < 500)).toBe(true);
      expect(errors.body.logs.map((l: any) => l.request_id)).toEqual(expect.arrayContaining([failedId, noTokenId, notFoundId]));
      const { rows } = await app.query(`SELECT count(*)::int AS count FROM audit_logs WHERE status_code BETWEEN 400 AND 499`);
      expect(errors.body.pagination.total).toBe(rows[0].count);

      const created = await adminLogs(`?status=2xx&user_id=${alice.id}`);
      expect(created.body.logs.map((l: any) => l.request_id).sort()).toEqual([alice.requestId, aliceKey.requestId].sort());
      expect((await adminLogs(`?status=5xx`)).body.pagination.total).toBe(0);
    });

    it('filters by ip', async () => {
      const local = await adminLogs(`?ip=127.0.0.1&user_id=${alice.id}`);
      expect(local.status).toBe(200);
      expect(local.body.pagination.total).toBe(2);
      expect(local.body.logs.every((l: any) => l.ip === '127.0.0.1')).toBe(true);
      expect((await adminLogs('?ip=10.9.8.7')).body).toEqual({ logs: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
    });

    it('filters by from and to', async () => {
      const registered = (await entryFor(alice.requestId)).created_at as Date;
      const keyCreated = (await entryFor(aliceKey.requestId)).created_at as Date;
      expect(keyCreated.getTime()).toBeGreaterThan(registered.getTime());

      const before = await adminLogs(`?user_id=${alice.id}&to=${encodeURIComponent(startedAt.toISOString())}`);
      expect(before.status).toBe(200);
      expect(before.body.pagination.total).toBe(0);

      const future = new Date(Date.now() + 3_600_000).toISOString();
      const after = await adminLogs(`?user_id=${alice.id}&from=${encodeURIComponent(future)}&to=${encodeURIComponent(new Date(Date.now() + 7_200_000).toISOString())}`);
      expect(after.status).toBe(200);
      expect(after.body.pagination.total).toBe(0);

      // From just after the registration: only the key creation is left.
      const from = new Date(registered.getTime() + 1).toISOString();
      const later = await adminLogs(`?user_id=${alice.id}&from=${encodeURIComponent(from)}`);
      expect(later.body.logs.map((l: any) => l.request_id)).toEqual([aliceKey.requestId]);

      // Up to the key creation (exclusive): only the registration.
      const earlier = await adminLogs(
        `?user_id=${alice.id}&from=${encodeURIComponent(startedAt.toISOString())}&to=${encodeURIComponent(keyCreated.toISOString())}`,
      );
      expect(earlier.body.logs.map((l: any) => l.request_id)).toEqual([alice.requestId]);

      const both = await adminLogs(`?from=${encodeURIComponent(startedAt.toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 1000).toISOString())}&limit=100`);
      expect(both.body.logs.map((l: any) => l.request_id)).toEqual(expect.arrayContaining([alice.requestId, aliceKey.requestId, failedId, noTokenId, notFoundId]));
    });

    it('paginates with page, limit and total', async () => {
      const user = await register('pager');
      const ids = [user.requestId];
      for (let i = 0; i < 4; i++) {
        const c = caller(`pager-${i}`);
        expect((await app.post('/auth/test-token', undefined, { token: user.token, headers: c.headers })).status).toBe(200);
        ids.push(c.requestId);
      }
      await entriesFor(ids);

      const all = await adminLogs(`?user_id=${user.id}&limit=100`);
      expect(all.body.pagination).toEqual({ total: 5, page: 1, limit: 100, pages: 1 });
      const order = all.body.logs.map((l: any) => l.id);
      expect(order).toHaveLength(5);

      const pages = [];
      for (const page of [1, 2, 3]) {
        const response = await adminLogs(`?user_id=${user.id}&limit=2&page=${page}`);
        expect(response.status).toBe(200);
        expect(response.body.pagination).toEqual({ total: 5, page, limit: 2, pages: 3 });
        pages.push(response.body.logs.map((l: any) => l.id));
      }
      expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual(order);

      const beyond = await adminLogs(`?user_id=${user.id}&limit=2&page=4`);
      expect(beyond.body).toEqual({ logs: [], pagination: { total: 5, page: 4, limit: 2, pages: 3 } });
    });

    it('answers 400 for bad parameters', async () => {
      expectValidation(await adminLogs('?user_id=not-a-uuid'), 'user_id');
      expectValidation(await adminLogs('?status=abc'), 'status');
      expectValidation(await adminLogs('?status=600'), 'status');
      expectValidation(await adminLogs('?from=yesterday'), 'from');
      expectValidation(await adminLogs('?to=not-a-date'), 'to');
      expectValidation(await adminLogs('?limit=101'), 'limit');
      expectValidation(await adminLogs('?limit=0'), 'limit');
      expectValidation(await adminLogs('?page=0'), 'page');
      expectValidation(await adminLogs('?ip=not-an-ip'), 'ip');
      expectValidation(await adminLogs('?unknown_filter=1'));
    });

    it('answers 401 without credentials and 403 for a non-admin', async () => {
      expectError(await app.get('/admin/logs'), 401, 'UNAUTHORIZED');
      expectError(await adminLogs('', alice.token), 403, 'FORBIDDEN');
    });
  });

  describe('GET /admin/logs/stats', () => {
    it('counts a period by action, by day and by user, with the error rate', async () => {
      await sleep(30);
      const from = new Date();
      const user = await register('stats');
      const ids = [user.requestId];
      const login = caller('stats-login');
      expect((await app.post('/auth/login', { username: user.username, password: user.password }, { headers: login.headers })).status).toBe(200);
      const failed = caller('stats-failed');
      expect((await app.post('/auth/login', { username: user.username, password: 'wrong-password' }, { headers: failed.headers })).status).toBe(401);
      const key = await createKey(user.token);
      const noToken = caller('stats-no-token');
      expect((await app.post('/api-keys', { name: 'x' }, { headers: noToken.headers })).status).toBe(401);
      ids.push(login.requestId, failed.requestId, key.requestId, noToken.requestId);
      await entriesFor(ids);
      await sleep(30);
      const to = new Date();

      const response = await app.get(`/admin/logs/stats?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`, { token: admin });

      expect(response.status).toBe(200);
      const stats = response.body;
      expect(stats.from).toBe(from.toISOString());
      expect(stats.to).toBe(to.toISOString());
      expect(stats.total).toBe(5);
      expect(stats.errors).toBe(2);
      expect(stats.error_rate).toBeCloseTo(0.4, 4);
      expect(stats.by_action).toEqual([
        { action: 'api_key.create', count: 2 },
        { action: 'user.login', count: 2 },
        { action: 'user.register', count: 1 },
      ]);
      const fromDay = from.toISOString().slice(0, 10);
      if (fromDay === to.toISOString().slice(0, 10)) {
        expect(stats.by_day).toEqual([{ day: fromDay, count: 5, errors: 2 }]);
      } else {
        expect(stats.by_day.reduce((sum: number, d: any) => sum + d.count, 0)).toBe(5);
      }
      expect(stats.by_user).toEqual([
        { user_id: user.id, count: 3 },
        { user_id: null, count: 2 },
      ]);
    });

    it('gives zeros for an empty period and defaults to the last 30 days', async () => {
      const empty = await app.get('/admin/logs/stats?from=2001-01-01T00:00:00Z&to=2001-01-02T00:00:00Z', { token: admin });
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({
        from: '2001-01-01T00:00:00.000Z',
        to: '2001-01-02T00:00:00.000Z',
        total: 0,
        errors: 0,
        error_rate: 0,
        by_action: [],
        by_day: [],
        by_user: [],
      });

      const recent = await app.get('/admin/logs/stats', { token: admin });
      expect(recent.status).toBe(200);
      const span = Date.parse(recent.body.to) - Date.parse(recent.body.from);
      expect(span).toBe(30 * 86_400_000);
      const { rows } = await app.query(
        `SELECT count(*)::int AS total, count(*) FILTER (WHERE status_code >= 400)::int AS errors FROM audit_logs WHERE created_at >= $1 AND created_at < $2`,
        [recent.body.from, recent.body.to],
      );
      expect(recent.body.total).toBe(rows[0].total);
      expect(recent.body.errors).toBe(rows[0].errors);
      expect(recent.body.total).toBeGreaterThan(0);
      expect(recent.body.error_rate).toBeCloseTo(rows[0].errors / rows[0].total, 3);
      expect(recent.body.by_action.reduce((sum: number, a: any) => sum + a.count, 0)).toBe(rows[0].total);
    });

    it('answers 400 for a bad period, 401 anonymous, 403 for a non-admin', async () => {
      expectValidation(await app.get('/admin/logs/stats?from=yesterday', { token: admin }), 'from');
      expectValidation(await app.get('/admin/logs/stats?to=tomorrow', { token: admin }), 'to');
      expectError(await app.get('/admin/logs/stats'), 401, 'UNAUTHORIZED');
      const user = await register();
      expectError(await app.get('/admin/logs/stats', { token: user.token }), 403, 'FORBIDDEN');
    });
  });

  describe('GET /admin/logs/actions and /admin/logs/resource-types', () => {
    it('lists every distinct action and resource type, sorted', async () => {
      const user = await register();
      await createKey(user.token);
      const c = caller('lists-failed');
      expect((await app.post('/auth/login', { username: user.username, password: 'wrong-password' }, { headers: c.headers })).status).toBe(401);
      await entryFor(c.requestId);
      const { rows: actionRows } = await app.query(`SELECT DISTINCT action FROM audit_logs ORDER BY 1`);
      const { rows: typeRows } = await app.query(`SELECT DISTINCT resource_type FROM audit_logs WHERE resource_type IS NOT NULL ORDER BY 1`);

      const actions = await app.get('/admin/logs/actions', { token: admin });
      expect(actions.status).toBe(200);
      expect(actions.body).toEqual({ actions: actionRows.map((r) => r.action) });
      expect(actions.body.actions).toEqual(expect.arrayContaining(['api_key.create', 'user.login', 'user.register']));
      expect(new Set(actions.body.actions).size).toBe(actions.body.actions.length);

      const types = await app.get('/admin/logs/resource-types', { token: admin });
      expect(types.status).toBe(200);
      expect(types.body).toEqual({ resource_types: typeRows.map((r) => r.resource_type) });
      expect(types.body.resource_types).toEqual(expect.arrayContaining(['api_key', 'user']));
      expect(types.body.resource_types).not.toContain(null);
    });

    it('answers 401 anonymous and 403 for a non-admin', async () => {
      const user = await register();
      const key = await createKey(user.token);
      for (const path of ['/admin/logs/actions', '/admin/logs/resource-types']) {
        expectError(await app.get(path), 401, 'UNAUTHORIZED');
        expectError(await app.get(path, { token: 'not-a-jwt' }), 401, 'UNAUTHORIZED');
        expectError(await app.get(path, { token: user.token }), 403, 'FORBIDDEN');
        expectError(await app.get(path, { apiKey: key.key }), 403, 'FORBIDDEN');
      }
    });

    it('answers 400 for query parameters they do not take, like /admin/logs does', async () => {
      // /admin/logs rejects unknown parameters (VALIDATION_ERROR); the value lists take none at all.
      expectValidation(await adminLogs('?unknown_filter=1'));
      for (const path of ['/admin/logs/actions', '/admin/logs/resource-types']) {
        expectValidation(await app.get(`${path}?user_id=not-a-uuid`, { token: admin }));
        expectValidation(await app.get(`${path}?unknown_filter=1`, { token: admin }));
      }
    });
  });

  describe('GET /profile/logs', () => {
    let ann: Awaited<ReturnType<typeof register>>;
    let bob: Awaited<ReturnType<typeof register>>;
    let annIds: string[];
    let bobIds: string[];

    beforeAll(async () => {
      ann = await register('ann');
      bob = await register('bob');
      const annKey = await createKey(ann.token);
      const annNoKey = caller('ann-bad-key');
      expect((await app.post('/api-keys', { name: '' }, { token: ann.token, headers: annNoKey.headers })).status).toBe(400);
      const bobLogin = caller('bob-login');
      expect((await app.post('/auth/login', { username: bob.username, password: bob.password }, { headers: bobLogin.headers })).status).toBe(200);
      annIds = [ann.requestId, annKey.requestId, annNoKey.requestId];
      bobIds = [bob.requestId, bobLogin.requestId];
      await entriesFor([...annIds, ...bobIds]);
    });

    it("shows only the caller's own entries", async () => {
      const annLogs = await app.get('/profile/logs', { token: ann.token });
      expect(annLogs.status).toBe(200);
      expect(Object.keys(annLogs.body).sort()).toEqual(['logs', 'pagination']);
      expect(annLogs.body.logs.map((l: any) => l.request_id).sort()).toEqual([...annIds].sort());
      expect(annLogs.body.logs.every((l: any) => l.user_id === ann.id)).toBe(true);
      expect(annLogs.body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
      expect(annLogs.body.logs[0]).toMatchObject({ ip: '127.0.0.1', user_agent: USER_AGENT });

      const bobLogs = await app.get('/profile/logs', { token: bob.token });
      expect(bobLogs.status).toBe(200);
      expect(bobLogs.body.logs.map((l: any) => l.request_id).sort()).toEqual([...bobIds].sort());
      expect(bobLogs.body.logs.every((l: any) => l.user_id === bob.id)).toBe(true);
      expect(bobLogs.body.pagination.total).toBe(2);
    });

    it('filters and paginates within the caller’s entries', async () => {
      const created = await app.get('/profile/logs?action=api_key.create', { token: ann.token });
      expect(created.status).toBe(200);
      expect(created.body.logs.map((l: any) => l.status_code).sort()).toEqual([201, 400]);
      const failures = await app.get('/profile/logs?status=4xx', { token: ann.token });
      expect(failures.body.logs.map((l: any) => l.request_id)).toEqual([annIds[2]]);
      const users = await app.get('/profile/logs?resource_type=user', { token: bob.token });
      expect(users.body.logs.map((l: any) => l.request_id).sort()).toEqual([...bobIds].sort());
      expect((await app.get('/profile/logs?action=user.login', { token: ann.token })).body.pagination.total).toBe(0);

      const page = await app.get('/profile/logs?limit=2&page=2', { token: ann.token });
      expect(page.body.pagination).toEqual({ total: 3, page: 2, limit: 2, pages: 2 });
      expect(page.body.logs).toHaveLength(1);
      const future = encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString());
      expect((await app.get(`/profile/logs?from=${future}&to=${future}`, { token: ann.token })).body.pagination.total).toBe(0);
    });

    it("cannot be pointed at someone else's entries", async () => {
      expectValidation(await app.get(`/profile/logs?user_id=${bob.id}`, { token: ann.token }), 'user_id');
      // Whatever the answer to a user_id parameter on the value lists, it never shows Bob's values.
      const actions = await app.get(`/profile/logs/actions?user_id=${bob.id}`, { token: ann.token });
      expect(actions.body.actions ?? []).not.toContain('user.login');
      const types = await app.get(`/profile/logs/resource-types?user_id=${bob.id}`, { token: ann.token });
      expect(JSON.stringify(types.body)).not.toContain(bob.id);
    });

    it('/profile/logs/actions and /resource-types list the caller’s own values', async () => {
      const annActions = await app.get('/profile/logs/actions', { token: ann.token });
      expect(annActions.status).toBe(200);
      expect(annActions.body).toEqual({ actions: ['api_key.create', 'user.register'] });
      const bobActions = await app.get('/profile/logs/actions', { token: bob.token });
      expect(bobActions.body).toEqual({ actions: ['user.login', 'user.register'] });

      const annTypes = await app.get('/profile/logs/resource-types', { token: ann.token });
      expect(annTypes.status).toBe(200);
      expect(annTypes.body).toEqual({ resource_types: ['api_key', 'user'] });
      const bobTypes = await app.get('/profile/logs/resource-types', { token: bob.token });
      expect(bobTypes.body).toEqual({ resource_types: ['user'] });
    });

    it('answers 400 for bad parameters', async () => {
      expectValidation(await app.get('/profile/logs?status=abc', { token: ann.token }), 'status');
      expectValidation(await app.get('/profile/logs?from=yesterday', { token: ann.token }), 'from');
      expectValidation(await app.get('/profile/logs?limit=101', { token: ann.token }), 'limit');
      expectValidation(await app.get('/profile/logs?page=0', { token: ann.token }), 'page');
      expectValidation(await app.get('/profile/logs?unknown_filter=1', { token: ann.token }));
    });

    it('/profile/logs/actions and /resource-types answer 400 for parameters they do not take', async () => {
      for (const path of ['/profile/logs/actions', '/profile/logs/resource-types']) {
        expectValidation(await app.get(`${path}?user_id=${bob.id}`, { token: ann.token }));
        expectValidation(await app.get(`${path}?unknown_filter=1`, { token: ann.token }));
      }
    });

    it('answers 401 without credentials and 403 for an API key', async () => {
      const user = await register();
      const key = await createKey(user.token);
      for (const path of ['/profile/logs', '/profile/logs/actions', '/profile/logs/resource-types']) {
        expectError(await app.get(path), 401, 'UNAUTHORIZED');
        expectError(await app.get(path, { token: 'not-a-jwt' }), 401, 'UNAUTHORIZED');
        expectError(await app.get(path, { apiKey: key.key }), 403, 'FORBIDDEN');
      }
    });
  });

  describe('partition pruning', () => {
    it('a one-day query for a user reads exactly one monthly partition', async () => {
      const run = await app.post('/api/v1/admin/maintenance/jobs/partitions.maintain/run', undefined, { token: admin });
      expect(run.status).toBe(200);
      expect(run.body.status).toBe('succeeded');

      const now = new Date();
      const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
      const dayEnd = new Date(dayStart.getTime() + 86_400_000);
      const partition = `audit_logs_p${dayStart.getUTCFullYear()}${String(dayStart.getUTCMonth() + 1).padStart(2, '0')}`;
      const user = await register('pruning');
      await entryFor(user.requestId);

      const { rows: attached } = await app.query(
        `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
          WHERE p.relname = 'audit_logs' ORDER BY 1`,
      );
      expect(attached.map((r) => r.relname)).toContain(partition);
      const { rows: [located] } = await app.query(`SELECT tableoid::regclass::text AS part FROM audit_logs WHERE request_id = $1`, [user.requestId]);
      expect(located.part).toBe(partition);

      const sql =
        `SELECT * FROM audit_logs WHERE user_id = $1 ` +
        `AND created_at >= '${dayStart.toISOString()}'::timestamptz AND created_at < '${dayEnd.toISOString()}'::timestamptz`;
      const { rows: plan } = await app.query(`EXPLAIN (FORMAT JSON) ${sql}`, [user.id]);
      const relations: string[] = [];
      const walk = (node: any) => {
        if (node['Relation Name']) relations.push(node['Relation Name']);
        for (const child of node.Plans ?? []) walk(child);
      };
      walk(plan[0]['QUERY PLAN'][0].Plan);

      expect(relations.filter((r) => /^audit_logs_p\d{6}$/.test(r))).toEqual([partition]);
      expect(relations).not.toContain('audit_logs_default');
      expect(relations).toEqual([partition]);

      const { rows: found } = await app.query(sql, [user.id]);
      expect(found.map((r) => r.request_id)).toEqual([user.requestId]);
    });
  });
});
