import { expectError, expectValidation } from '../support/expectations';
import { ADMIN, ApiResponse, TestApp } from '../support/test-app';

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const KEYS = '/api/v1/api-keys';

const unique = () => Math.random().toString(36).slice(2, 10);

describe('Admin users (/api/v1/admin/users)', () => {
  let app: TestApp;
  let admin: string;
  let user: Awaited<ReturnType<TestApp['registerUser']>>;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    user = await app.registerUser();
  });
  afterAll(() => app.stop());

  async function createUser(overrides: Record<string, unknown> = {}): Promise<ApiResponse> {
    const n = unique();
    const response = await app.post(
      '/admin/users',
      { username: `made_${n}`, email: `made_${n}@example.test`, password: 'password-123', ...overrides },
      { token: admin },
    );
    if (response.status !== 201) throw new Error(`admin create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  }

  async function login(username: string, password: string): Promise<ApiResponse> {
    return app.post('/auth/login', { username, password });
  }

  async function list(query: string): Promise<ApiResponse> {
    const response = await app.get(`/admin/users${query}`, { token: admin });
    if (response.status !== 200) throw new Error(`list failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  }

  describe('access', () => {
    const routes: Array<[string, string, unknown]> = [
      ['GET', '/admin/users', undefined],
      ['POST', '/admin/users', { username: 'nobody_x', email: 'nobody_x@example.test', password: 'password-123' }],
      ['GET', `/admin/users/${UNKNOWN_ID}`, undefined],
      ['PUT', `/admin/users/${UNKNOWN_ID}`, { name: 'x' }],
      ['DELETE', `/admin/users/${UNKNOWN_ID}`, undefined],
      ['POST', `/admin/users/${UNKNOWN_ID}/change-password`, { new_password: 'password-456' }],
    ];

    it.each(routes)('%s %s answers 401 without credentials', async (method, path, body) => {
      expectError(await app.request(method, path, { body }), 401, 'UNAUTHORIZED');
    });

    it.each(routes)('%s %s answers 403 for a non-admin', async (method, path, body) => {
      expectError(await app.request(method, path, { body, token: user.token }), 403, 'FORBIDDEN');
    });

    it('refuses admin routes to API keys, even with scope *', async () => {
      const key = await app.post(KEYS, { name: 'admin key', scopes: ['*'] }, { token: admin });
      expect(key.status).toBe(201);
      expectError(await app.get('/admin/users', { apiKey: key.body.key }), 403, 'FORBIDDEN');
    });
  });

  describe('GET /admin/users', () => {
    let tag: string;
    let created: Record<string, any>;

    beforeAll(async () => {
      tag = `srch${unique()}`;
      created = {
        plain: (await createUser({ username: `${tag}_Plain`, email: `plain_${tag}@example.test` })).body,
        byEmail: (await createUser({ username: `other_${unique()}`, email: `${tag.toUpperCase()}.Mail@Example.test` })).body,
        premium: (await createUser({ username: `${tag}_prem`, email: `prem_${tag}@example.test`, level: 'premium' })).body,
        disabled: (await createUser({ username: `${tag}_off`, email: `off_${tag}@example.test`, status: 'disabled' })).body,
        admin: (await createUser({ username: `${tag}_boss`, email: `boss_${tag}@example.test`, role: 'admin', level: 'basic' })).body,
      };
    });

    it('lists users with pagination, newest first, never with password hashes', async () => {
      const response = await list('');
      expect(response.body.pagination.page).toBe(1);
      expect(response.body.pagination.limit).toBe(20);
      expect(response.body.pagination.total).toBeGreaterThanOrEqual(7);
      expect(response.body.pagination.pages).toBe(Math.ceil(response.body.pagination.total / 20));
      const ids = response.body.users.map((u: { id: string }) => u.id);
      expect(ids).toContain(user.id);
      expect(ids.indexOf(created.admin.id)).toBeLessThan(ids.indexOf(created.plain.id));
      const text = JSON.stringify(response.body);
      expect(text).not.toMatch(/password/i);
      expect(text).not.toContain('$2');
    });

    it('searches username and email by substring, case-insensitively', async () => {
      const byTag = await list(`?search=${tag.toUpperCase()}`);
      const ids = byTag.body.users.map((u: { id: string }) => u.id).sort();
      expect(ids).toEqual(Object.values(created).map((u) => u.id).sort());
      expect(byTag.body.pagination.total).toBe(5);

      const byEmail = await list(`?search=${encodeURIComponent(`${tag}.mail@EXAMPLE`)}`);
      expect(byEmail.body.users.map((u: { id: string }) => u.id)).toEqual([created.byEmail.id]);

      const byUsername = await list(`?search=${tag}_plain`);
      expect(byUsername.body.users.map((u: { id: string }) => u.id)).toEqual([created.plain.id]);

      const none = await list(`?search=zz${unique()}qq`);
      expect(none.body.users).toEqual([]);
      expect(none.body.pagination).toEqual({ total: 0, page: 1, limit: 20, pages: 0 });

      // LIKE wildcards are matched literally.
      const wildcard = await list(`?search=${encodeURIComponent('%')}`);
      expect(wildcard.body.users).toEqual([]);
    });

    it('filters by role, level and status, alone and combined with search', async () => {
      const admins = await list(`?search=${tag}&role=admin`);
      expect(admins.body.users.map((u: { id: string }) => u.id)).toEqual([created.admin.id]);

      const allAdmins = await list('?role=admin&limit=100');
      expect(allAdmins.body.users.every((u: { role: string }) => u.role === 'admin')).toBe(true);
      expect(allAdmins.body.users.map((u: { username: string }) => u.username)).toContain(ADMIN.username);

      const premium = await list(`?search=${tag}&level=premium`);
      expect(premium.body.users.map((u: { id: string }) => u.id)).toEqual([created.premium.id]);
      const allPremium = await list('?level=premium&limit=100');
      expect(allPremium.body.users.every((u: { level: string }) => u.level === 'premium')).toBe(true);

      const disabled = await list(`?search=${tag}&status=disabled`);
      expect(disabled.body.users.map((u: { id: string }) => u.id)).toEqual([created.disabled.id]);
      expect(disabled.body.users[0].status).toBe('disabled');

      const activeUsers = await list(`?search=${tag}&status=active&role=user&level=free`);
      expect(activeUsers.body.users.map((u: { id: string }) => u.id).sort()).toEqual([created.plain.id, created.byEmail.id].sort());
    });

    it('paginates without overlap', async () => {
      const first = await list(`?search=${tag}&limit=2&page=1`);
      const second = await list(`?search=${tag}&limit=2&page=2`);
      const third = await list(`?search=${tag}&limit=2&page=3`);
      expect(first.body.pagination).toEqual({ total: 5, page: 1, limit: 2, pages: 3 });
      expect(third.body.pagination).toEqual({ total: 5, page: 3, limit: 2, pages: 3 });
      expect(first.body.users).toHaveLength(2);
      expect(second.body.users).toHaveLength(2);
      expect(third.body.users).toHaveLength(1);
      const ids = [...first.body.users, ...second.body.users, ...third.body.users].map((u: { id: string }) => u.id);
      expect(new Set(ids).size).toBe(5);
      expect((await list(`?search=${tag}&limit=2&page=4`)).body.users).toEqual([]);
      expect((await list(`?search=${tag}&limit=100`)).body.users).toHaveLength(5);
    });

    it('rejects bad query parameters with field details', async () => {
      expectValidation(await app.get('/admin/users?limit=101', { token: admin }), 'limit');
      expectValidation(await app.get('/admin/users?limit=0', { token: admin }), 'limit');
      expectValidation(await app.get('/admin/users?page=0', { token: admin }), 'page');
      expectValidation(await app.get('/admin/users?role=root', { token: admin }), 'role');
      expectValidation(await app.get('/admin/users?status=gone', { token: admin }), 'status');
      expectValidation(await app.get('/admin/users?search=', { token: admin }), 'search');
      expectValidation(await app.get('/admin/users?sort=name', { token: admin }), 'sort');
    });
  });

  describe('POST /admin/users', () => {
    it('creates a user with role, level and status', async () => {
      const n = unique();
      const response = await app.post(
        '/admin/users',
        { username: `new_${n}`, email: `new_${n}@example.test`, password: 'password-123', name: 'New One', role: 'admin', level: 'premium', status: 'active' },
        { token: admin },
      );
      expect(response.status).toBe(201);
      expect(response.body).toMatchObject({ username: `new_${n}`, email: `new_${n}@example.test`, name: 'New One', role: 'admin', level: 'premium', status: 'active' });
      expect(response.body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.stringify(response.body)).not.toMatch(/password/i);

      const loggedIn = await login(`new_${n}`, 'password-123');
      expect(loggedIn.status).toBe(200);
      expect(loggedIn.body.user.role).toBe('admin');
      expect((await app.get('/admin/users', { token: loggedIn.body.tokens.access })).status).toBe(200);
    });

    it('defaults to role user, level free, status active', async () => {
      const response = await createUser();
      expect(response.body).toMatchObject({ role: 'user', level: 'free', status: 'active' });
    });

    it('creates a disabled user who cannot log in', async () => {
      const n = unique();
      const response = await createUser({ username: `dis_${n}`, status: 'disabled' });
      expect(response.body.status).toBe('disabled');
      expectError(await login(`dis_${n}`, 'password-123'), 403, 'ACCOUNT_DISABLED');
    });

    it('answers 409 for a duplicate username or email, in any case', async () => {
      const existing = (await createUser()).body;
      expectError(
        await app.post('/admin/users', { username: existing.username.toUpperCase(), email: `x_${unique()}@example.test`, password: 'password-123' }, { token: admin }),
        409,
        'CONFLICT',
      );
      expectError(
        await app.post('/admin/users', { username: `x_${unique()}`, email: existing.email.toUpperCase(), password: 'password-123' }, { token: admin }),
        409,
        'CONFLICT',
      );
      expectError(
        await app.post('/admin/users', { username: user.username, email: `x_${unique()}@example.test`, password: 'password-123' }, { token: admin }),
        409,
        'CONFLICT',
      );
    });

    it('rejects invalid input with field details', async () => {
      const valid = () => ({ username: `v_${unique()}`, email: `v_${unique()}@example.test`, password: 'password-123' });
      const post = (body: unknown) => app.post('/admin/users', body, { token: admin });
      expectValidation(await post({ ...valid(), level: 'platinum' }), 'level');
      expectValidation(await post({ ...valid(), role: 'root' }), 'role');
      expectValidation(await post({ ...valid(), status: 'deleted' }), 'status');
      expectValidation(await post({ ...valid(), username: 'a b' }), 'username');
      expectValidation(await post({ ...valid(), username: 'ab' }), 'username');
      expectValidation(await post({ ...valid(), email: 'not-an-email' }), 'email');
      expectValidation(await post({ ...valid(), password: 'short' }), 'password');
      expectValidation(await post({ ...valid(), is_superuser: true }), 'is_superuser');
      expectValidation(await post({}), 'username', 'email', 'password');
    });
  });

  describe('GET /admin/users/:id', () => {
    it('returns the full record with last login, lock state and counts', async () => {
      const target = await app.registerUser();
      let response = await app.get(`/admin/users/${target.id}`, { token: admin });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: target.id, username: target.username, email: target.email, role: 'user', level: 'free', status: 'active' });
      expect(response.body).toHaveProperty('last_login_at');
      expect(response.body.locked_until).toBeNull();
      expect(response.body.counts).toEqual({ active_sessions: 1, api_keys: 0 });
      expect(JSON.stringify(response.body)).not.toMatch(/password/i);

      const before = Date.now();
      const loggedIn = await login(target.username, target.password);
      expect(loggedIn.status).toBe(200);
      expect((await app.post(KEYS, { name: 'k' }, { token: target.token })).status).toBe(201);

      response = await app.get(`/admin/users/${target.id}`, { token: admin });
      expect(response.body.counts).toEqual({ active_sessions: 2, api_keys: 1 });
      expect(new Date(response.body.last_login_at).getTime()).toBeGreaterThanOrEqual(before - 1000);

      expect((await app.post('/auth/logout', undefined, { token: loggedIn.body.tokens.access })).status).toBe(200);
      response = await app.get(`/admin/users/${target.id}`, { token: admin });
      expect(response.body.counts).toEqual({ active_sessions: 1, api_keys: 1 });
    });

    it('shows locked_until after repeated failed logins', async () => {
      const target = await app.registerUser();
      for (let i = 0; i < 5; i++) await login(target.username, 'wrong-password');
      const response = await app.get(`/admin/users/${target.id}`, { token: admin });
      expect(response.status).toBe(200);
      expect(response.body.locked_until).not.toBeNull();
      expect(new Date(response.body.locked_until).getTime()).toBeGreaterThan(Date.now());
    });

    it('answers 400 for a non-uuid id and 404 for an unknown one', async () => {
      expectValidation(await app.get('/admin/users/not-a-uuid', { token: admin }), 'id');
      expectError(await app.get(`/admin/users/${UNKNOWN_ID}`, { token: admin }), 404, 'NOT_FOUND');
    });
  });

  describe('PUT /admin/users/:id', () => {
    it('updates username, email, name, role, level and status', async () => {
      const target = (await createUser()).body;
      const n = unique();
      const changes = { username: `renamed_${n}`, email: `renamed_${n}@example.test`, name: 'Renamed', role: 'admin', level: 'enterprise', status: 'disabled' };
      const response = await app.put(`/admin/users/${target.id}`, changes, { token: admin });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id: target.id, ...changes });
      const fetched = await app.get(`/admin/users/${target.id}`, { token: admin });
      expect(fetched.body).toMatchObject(changes);

      // Only the fields sent change.
      const partial = await app.put(`/admin/users/${target.id}`, { status: 'active' }, { token: admin });
      expect(partial.status).toBe(200);
      expect(partial.body).toMatchObject({ ...changes, status: 'active' });
      // The new username logs in.
      expect((await login(`renamed_${n}`, 'password-123')).status).toBe(200);
    });

    it('a level change applies to the plan limits at once', async () => {
      const target = await app.registerUser();
      expect((await app.post(KEYS, { name: 'one' }, { token: target.token })).status).toBe(201);
      expectError(await app.post(KEYS, { name: 'two' }, { token: target.token }), 403, 'FORBIDDEN');
      expect((await app.put(`/admin/users/${target.id}`, { level: 'basic' }, { token: admin })).status).toBe(200);
      expect((await app.post(KEYS, { name: 'two' }, { token: target.token })).status).toBe(201);
    });

    it('disabling takes effect on the next request; re-enabling restores access', async () => {
      const target = await app.registerUser();
      expect((await app.get('/users/me', { token: target.token })).status).toBe(200);
      expect((await app.put(`/admin/users/${target.id}`, { status: 'disabled' }, { token: admin })).status).toBe(200);
      expectError(await app.get('/users/me', { token: target.token }), 403, 'ACCOUNT_DISABLED');
      expect((await app.put(`/admin/users/${target.id}`, { status: 'active' }, { token: admin })).status).toBe(200);
      expect((await app.get('/users/me', { token: target.token })).status).toBe(200);
    });

    it('answers 409 when the username or email belongs to another user, in any case', async () => {
      const target = (await createUser()).body;
      const other = (await createUser()).body;
      expectError(await app.put(`/admin/users/${target.id}`, { email: other.email.toUpperCase() }, { token: admin }), 409, 'CONFLICT');
      expectError(await app.put(`/admin/users/${target.id}`, { username: other.username.toUpperCase() }, { token: admin }), 409, 'CONFLICT');
      const unchanged = await app.get(`/admin/users/${target.id}`, { token: admin });
      expect(unchanged.body).toMatchObject({ username: target.username, email: target.email });
      // Its own email in another case is not a conflict.
      expect((await app.put(`/admin/users/${target.id}`, { email: target.email.toUpperCase() }, { token: admin })).status).toBe(200);
    });

    it('rejects invalid input with field details', async () => {
      const target = (await createUser()).body;
      const put = (body: unknown) => app.put(`/admin/users/${target.id}`, body, { token: admin });
      expectValidation(await put({ level: 'platinum' }), 'level');
      expectValidation(await put({ role: 'owner' }), 'role');
      expectValidation(await put({ status: 'banned' }), 'status');
      expectValidation(await put({ email: 'nope' }), 'email');
      expectValidation(await put({ username: 'x' }), 'username');
      expectValidation(await put({ username: null }), 'username');
      expectValidation(await put({ password_hash: 'x' }), 'password_hash');
      const unchanged = await app.get(`/admin/users/${target.id}`, { token: admin });
      expect(unchanged.body).toMatchObject({ username: target.username, level: 'free', role: 'user', status: 'active' });
    });

    it('answers 400 for a non-uuid id and 404 for an unknown one', async () => {
      expectValidation(await app.put('/admin/users/42', { name: 'x' }, { token: admin }), 'id');
      expectError(await app.put(`/admin/users/${UNKNOWN_ID}`, { name: 'x' }, { token: admin }), 404, 'NOT_FOUND');
    });

    it('a promoted user uses admin routes with the existing token; a demoted one is refused at once', async () => {
      const target = await app.registerUser();
      expectError(await app.get('/admin/users', { token: target.token }), 403, 'FORBIDDEN');

      expect((await app.put(`/admin/users/${target.id}`, { role: 'admin' }, { token: admin })).status).toBe(200);
      expect((await app.get('/admin/users', { token: target.token })).status).toBe(200);
      expect((await app.get(`/admin/users/${user.id}`, { token: target.token })).status).toBe(200);

      expect((await app.put(`/admin/users/${target.id}`, { role: 'user' }, { token: admin })).status).toBe(200);
      expectError(await app.get('/admin/users', { token: target.token }), 403, 'FORBIDDEN');
      expect((await app.get('/users/me', { token: target.token })).status).toBe(200);
    });
  });

  describe('DELETE /admin/users/:id', () => {
    it('soft-deletes: sessions and keys stop working, login fails, the row stays listed', async () => {
      const target = await app.registerUser();
      const key = await app.post(KEYS, { name: 'k', scopes: ['profile:read'] }, { token: target.token });
      expect(key.status).toBe(201);
      expect((await app.get('/users/me', { apiKey: key.body.key })).status).toBe(200);
      expect((await app.get('/users/me', { token: target.token })).status).toBe(200);

      const response = await app.delete(`/admin/users/${target.id}`, { token: admin });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });

      expectError(await app.get('/users/me', { token: target.token }), 401, 'TOKEN_REVOKED');
      expectError(await app.get('/users/me', { apiKey: key.body.key }), 401, 'UNAUTHORIZED');
      const loginResponse = await login(target.username, target.password);
      expect(loginResponse.status).toBe(401);
      expectError(loginResponse, 401, 'INVALID_CREDENTIALS');
      expect((await app.post('/auth/refresh', { refresh_token: target.refresh })).status).toBe(401);

      const details = await app.get(`/admin/users/${target.id}`, { token: admin });
      expect(details.status).toBe(200);
      expect(details.body.status).toBe('deleted');
      expect(details.body.counts).toEqual({ active_sessions: 0, api_keys: 0 });

      const listed = await list(`?search=${target.username}&status=deleted`);
      expect(listed.body.users.map((u: { id: string }) => u.id)).toEqual([target.id]);
      expect(listed.body.users[0].status).toBe('deleted');
    });

    it('answers 400 for a non-uuid id and 404 for an unknown one', async () => {
      expectValidation(await app.delete('/admin/users/abc', { token: admin }), 'id');
      expectError(await app.delete(`/admin/users/${UNKNOWN_ID}`, { token: admin }), 404, 'NOT_FOUND');
    });
  });

  describe('POST /admin/users/:id/change-password', () => {
    it("sets the password and revokes all of the user's sessions", async () => {
      const target = await app.registerUser();
      const second = await login(target.username, target.password);
      expect(second.status).toBe(200);

      const response = await app.post(`/admin/users/${target.id}/change-password`, { new_password: 'brand-new-pass-1' }, { token: admin });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });

      expectError(await app.get('/users/me', { token: target.token }), 401, 'TOKEN_REVOKED');
      expectError(await app.get('/users/me', { token: second.body.tokens.access }), 401, 'TOKEN_REVOKED');
      expect((await app.post('/auth/refresh', { refresh_token: target.refresh })).status).toBe(401);
      expectError(await login(target.username, target.password), 401, 'INVALID_CREDENTIALS');

      const fresh = await login(target.username, 'brand-new-pass-1');
      expect(fresh.status).toBe(200);
      expect((await app.get('/users/me', { token: fresh.body.tokens.access })).status).toBe(200);
    });

    it('rejects invalid input with field details', async () => {
      const target = await app.registerUser();
      const path = `/admin/users/${target.id}/change-password`;
      expectValidation(await app.post(path, {}, { token: admin }), 'new_password');
      expectValidation(await app.post(path, { new_password: 'short' }, { token: admin }), 'new_password');
      expectValidation(await app.post(path, { new_password: 'long-enough-1', current_password: 'x' }, { token: admin }), 'current_password');
      expect((await app.get('/users/me', { token: target.token })).status).toBe(200);
    });

    it('answers 400 for a non-uuid id and 404 for an unknown one', async () => {
      expectValidation(await app.post('/admin/users/xyz/change-password', { new_password: 'password-456' }, { token: admin }), 'id');
      expectError(await app.post(`/admin/users/${UNKNOWN_ID}/change-password`, { new_password: 'password-456' }, { token: admin }), 404, 'NOT_FOUND');
    });
  });
});
