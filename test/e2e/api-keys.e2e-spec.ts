import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

const KEY_FORMAT = /^sk-[A-Za-z0-9]{48}$/;
const PREFIX_FORMAT = /^sk-[A-Za-z0-9]{4}…[A-Za-z0-9]{4}$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('API keys (/api/v1/api-keys)', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
  });
  afterAll(() => app.stop());

  async function createKey(token: string, body: Record<string, unknown> = { name: 'key' }): Promise<ApiResponse> {
    const response = await app.post('/api/v1/api-keys', body, { token });
    if (response.status !== 201) throw new Error(`create key failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  }

  async function listKeys(token: string, query = ''): Promise<ApiResponse> {
    const response = await app.get(`/api/v1/api-keys${query}`, { token });
    expect(response.status).toBe(200);
    return response;
  }

  describe('POST /api-keys', () => {
    it('creates a key, shows it once with a display prefix and default scope execute', async () => {
      const user = await app.registerUser();
      const response = await app.post('/api/v1/api-keys', { name: 'CI runner' }, { token: user.token });
      expect(response.status).toBe(201);
      const body = response.body;
      expect(body.key).toMatch(KEY_FORMAT);
      expect(body.prefix).toMatch(PREFIX_FORMAT);
      expect(body.prefix).toBe(`${body.key.slice(0, 7)}…${body.key.slice(-4)}`);
      expect(body.scopes).toEqual(['execute']);
      expect(body.name).toBe('CI runner');
      expect(body.enabled).toBe(true);
      expect(body.usage_count).toBe(0);
      expect(body.last_used_at).toBeNull();
      expect(body.expires_at).toBeNull();
      expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(typeof body.created_at).toBe('string');
      expect(body).not.toHaveProperty('key_hash');
    });

    it('keeps the given scopes and a future expires_at', async () => {
      const user = await app.registerUser();
      const expiresAt = new Date(Date.now() + 24 * 3600 * 1000);
      const response = await app.post(
        '/api/v1/api-keys',
        { name: 'scoped', scopes: ['profile:read', 'code:read'], expires_at: expiresAt.toISOString() },
        { token: user.token },
      );
      expect(response.status).toBe(201);
      expect([...response.body.scopes].sort()).toEqual(['code:read', 'profile:read']);
      expect(new Date(response.body.expires_at).getTime()).toBe(expiresAt.getTime());
    });

    it('generates a different key every time', async () => {
      const first = (await createKey(admin, { name: 'a' })).body.key;
      const second = (await createKey(admin, { name: 'b' })).body.key;
      expect(first).not.toBe(second);
    });

    it('rejects invalid input with field details', async () => {
      const user = await app.registerUser();
      expectValidation(await app.post('/api/v1/api-keys', {}, { token: user.token }), 'name');
      expectValidation(await app.post('/api/v1/api-keys', { name: '' }, { token: user.token }), 'name');
      expectValidation(await app.post('/api/v1/api-keys', { name: 'x'.repeat(101) }, { token: user.token }), 'name');
      expectValidation(await app.post('/api/v1/api-keys', { name: 'k', scopes: ['execute', 'root'] }, { token: user.token }), 'scopes');
      expectValidation(await app.post('/api/v1/api-keys', { name: 'k', scopes: 'execute' }, { token: user.token }), 'scopes');
      expectValidation(await app.post('/api/v1/api-keys', { name: 'k', expires_at: 'tomorrow' }, { token: user.token }), 'expires_at');
      const past = new Date(Date.now() - 60_000).toISOString();
      expectValidation(await app.post('/api/v1/api-keys', { name: 'k', expires_at: past }, { token: user.token }), 'expires_at');
      expectValidation(await app.post('/api/v1/api-keys', { name: 'k', owner: 'someone' }, { token: user.token }), 'owner');
      // None of the rejected requests created a key.
      expect((await listKeys(user.token)).body.pagination.total).toBe(0);
    });

    it('answers 401 without credentials or with a bad token', async () => {
      expectError(await app.post('/api/v1/api-keys', { name: 'k' }), 401, 'UNAUTHORIZED');
      expectError(await app.post('/api/v1/api-keys', { name: 'k' }, { apiKey: 'sk-not-a-real-key' }), 401, 'UNAUTHORIZED');
    });

    it('enforces the plan limit: the free plan allows one key', async () => {
      const user = await app.registerUser();
      await createKey(user.token, { name: 'first' });
      expectError(await app.post('/api/v1/api-keys', { name: 'second' }, { token: user.token }), 403, 'FORBIDDEN');
      expect((await listKeys(user.token)).body.pagination.total).toBe(1);
    });

    it('frees a slot when a key is deleted', async () => {
      const user = await app.registerUser();
      const first = await createKey(user.token, { name: 'first' });
      expect((await app.delete(`/api/v1/api-keys/${first.body.id}`, { token: user.token })).status).toBe(200);
      expect((await app.post('/api/v1/api-keys', { name: 'second' }, { token: user.token })).status).toBe(201);
    });

    it('follows an admin edit of the plan limit', async () => {
      const user = await app.registerUser();
      await createKey(user.token, { name: 'k1' });
      try {
        const raised = await app.put('/admin/plans/free', { max_api_keys: 3 }, { token: admin });
        expect(raised.status).toBe(200);
        expect(raised.body.max_api_keys).toBe(3);
        expect((await app.post('/api/v1/api-keys', { name: 'k2' }, { token: user.token })).status).toBe(201);
        expect((await app.post('/api/v1/api-keys', { name: 'k3' }, { token: user.token })).status).toBe(201);
        expectError(await app.post('/api/v1/api-keys', { name: 'k4' }, { token: user.token }), 403, 'FORBIDDEN');
        expect((await listKeys(user.token)).body.pagination.total).toBe(3);
      } finally {
        const restored = await app.put('/admin/plans/free', { max_api_keys: 1 }, { token: admin });
        expect(restored.status).toBe(200);
      }
      // Back at one: the user (holding three) cannot create another.
      expectError(await app.post('/api/v1/api-keys', { name: 'k5' }, { token: user.token }), 403, 'FORBIDDEN');
    });

    it('does not limit admins', async () => {
      const before = (await listKeys(admin)).body.pagination.total;
      for (let i = 0; i < 3; i++) await createKey(admin, { name: `admin-${i}` });
      expect((await listKeys(admin)).body.pagination.total).toBe(before + 3);
    });

    it('lets exactly one of five parallel creations through when the limit is one', async () => {
      const user = await app.registerUser();
      const responses = await Promise.all(
        Array.from({ length: 5 }, (_, i) => app.post('/api/v1/api-keys', { name: `parallel-${i}` }, { token: user.token })),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 403, 403, 403, 403]);
      for (const response of responses.filter((r) => r.status === 403)) expectError(response, 403, 'FORBIDDEN');
      expect((await listKeys(user.token)).body.pagination.total).toBe(1);
    });
  });

  describe('GET /api-keys', () => {
    it('lists the own keys without their values', async () => {
      const user = await app.registerUser();
      const created = await createKey(user.token, { name: 'listed', scopes: ['profile:read'] });
      const other = await app.registerUser();
      await createKey(other.token, { name: 'not mine' });

      const response = await listKeys(user.token);
      expect(response.body.pagination).toEqual({ total: 1, page: 1, limit: 20, pages: 1 });
      expect(response.body.api_keys).toHaveLength(1);
      const [key] = response.body.api_keys;
      expect(key).not.toHaveProperty('key');
      expect(key.id).toBe(created.body.id);
      expect(key.name).toBe('listed');
      expect(key.prefix).toBe(created.body.prefix);
      expect(key.scopes).toEqual(['profile:read']);
      expect(key.enabled).toBe(true);
      // The value appears nowhere in the response, in any field.
      expect(JSON.stringify(response.body)).not.toContain(created.body.key);
      expect(JSON.stringify(response.body)).not.toContain(created.body.key.slice(3));
    });

    it('paginates', async () => {
      const owner = await app.registerUser();
      await app.put(`/admin/users/${owner.id}`, { level: 'premium' }, { token: admin }).then((r) => expect(r.status).toBe(200));
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await createKey(owner.token, { name: `p${i}` })).body.id);

      const first = await listKeys(owner.token, '?page=1&limit=2');
      expect(first.body.pagination).toEqual({ total: 5, page: 1, limit: 2, pages: 3 });
      expect(first.body.api_keys).toHaveLength(2);
      const third = await listKeys(owner.token, '?page=3&limit=2');
      expect(third.body.pagination).toEqual({ total: 5, page: 3, limit: 2, pages: 3 });
      expect(third.body.api_keys).toHaveLength(1);
      const second = await listKeys(owner.token, '?page=2&limit=2');
      const seen = [...first.body.api_keys, ...second.body.api_keys, ...third.body.api_keys].map((k: { id: string }) => k.id);
      expect([...seen].sort()).toEqual([...ids].sort());
      // Newest first.
      expect(first.body.api_keys[0].id).toBe(ids[4]);
    });

    it('rejects bad pagination with field details', async () => {
      const user = await app.registerUser();
      expectValidation(await app.get('/api/v1/api-keys?limit=101', { token: user.token }), 'limit');
      expectValidation(await app.get('/api/v1/api-keys?limit=0', { token: user.token }), 'limit');
      expectValidation(await app.get('/api/v1/api-keys?page=0', { token: user.token }), 'page');
      expectValidation(await app.get('/api/v1/api-keys?page=abc', { token: user.token }), 'page');
    });

    it('answers 401 without credentials', async () => {
      expectError(await app.get('/api/v1/api-keys'), 401, 'UNAUTHORIZED');
    });
  });

  describe('toggle', () => {
    it('PUT without a body flips, with {enabled} sets; POST does the same', async () => {
      const user = await app.registerUser();
      const { id } = (await createKey(user.token)).body;
      const put = (body?: unknown) => app.put(`/api/v1/api-keys/${id}/toggle`, body, { token: user.token });
      const post = (body?: unknown) => app.post(`/api/v1/api-keys/${id}/toggle`, body, { token: user.token });

      let response = await put();
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(id);
      expect(response.body.enabled).toBe(false);
      expect(response.body).not.toHaveProperty('key');
      expect((await put()).body.enabled).toBe(true);
      expect((await put({ enabled: false })).body.enabled).toBe(false);
      response = await put({ enabled: false });
      expect(response.status).toBe(200);
      expect(response.body.enabled).toBe(false);

      response = await post({ enabled: true });
      expect(response.status).toBe(200);
      expect(response.body.enabled).toBe(true);
      response = await post({ enabled: true });
      expect(response.body.enabled).toBe(true);
      response = await post();
      expect(response.status).toBe(200);
      expect(response.body.enabled).toBe(false);
      expect((await post()).body.enabled).toBe(true);

      const [listed] = (await listKeys(user.token)).body.api_keys;
      expect(listed.enabled).toBe(true);
    });

    it('rejects invalid input with field details', async () => {
      const user = await app.registerUser();
      const { id } = (await createKey(user.token)).body;
      expectValidation(await app.put(`/api/v1/api-keys/${id}/toggle`, { enabled: 'yes' }, { token: user.token }), 'enabled');
      expectValidation(await app.post(`/api/v1/api-keys/${id}/toggle`, { enabled: 1 }, { token: user.token }), 'enabled');
      expectValidation(await app.put(`/api/v1/api-keys/${id}/toggle`, { enabled: true, extra: 1 }, { token: user.token }), 'extra');
      expectValidation(await app.put('/api/v1/api-keys/not-a-uuid/toggle', undefined, { token: user.token }), 'id');
      expectValidation(await app.post('/api/v1/api-keys/not-a-uuid/toggle', undefined, { token: user.token }), 'id');
      expect((await listKeys(user.token)).body.api_keys[0].enabled).toBe(true);
    });

    it('answers 404 for an unknown id and for another user\'s key, leaving it untouched', async () => {
      const owner = await app.registerUser();
      const key = (await createKey(owner.token, { name: 'owned', scopes: ['profile:read'] })).body;
      const stranger = await app.registerUser();

      expectError(await app.put(`/api/v1/api-keys/${UNKNOWN_ID}/toggle`, undefined, { token: owner.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/api/v1/api-keys/${UNKNOWN_ID}/toggle`, undefined, { token: owner.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/api/v1/api-keys/${key.id}/toggle`, { enabled: false }, { token: stranger.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/api/v1/api-keys/${key.id}/toggle`, undefined, { token: stranger.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/api/v1/api-keys/${key.id}`, { token: stranger.token }), 404, 'NOT_FOUND');

      const [listed] = (await listKeys(owner.token)).body.api_keys;
      expect(listed.enabled).toBe(true);
      expect((await app.get('/users/me', { apiKey: key.key })).status).toBe(200);
    });

    it('answers 401 without credentials', async () => {
      expectError(await app.put(`/api/v1/api-keys/${UNKNOWN_ID}/toggle`), 401, 'UNAUTHORIZED');
      expectError(await app.post(`/api/v1/api-keys/${UNKNOWN_ID}/toggle`), 401, 'UNAUTHORIZED');
    });
  });

  describe('DELETE /api-keys/:id', () => {
    it('deletes the key: it stops working at once and is gone from the list', async () => {
      const user = await app.registerUser();
      const key = (await createKey(user.token, { name: 'doomed', scopes: ['profile:read'] })).body;
      expect((await app.get('/users/me', { apiKey: key.key })).status).toBe(200);

      const response = await app.delete(`/api/v1/api-keys/${key.id}`, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });

      expectError(await app.get('/users/me', { apiKey: key.key }), 401, 'UNAUTHORIZED');
      expectError(await app.get('/users/me', { headers: { authorization: `Bearer ${key.key}` } }), 401, 'UNAUTHORIZED');
      expect((await listKeys(user.token)).body.api_keys).toEqual([]);
      expectError(await app.delete(`/api/v1/api-keys/${key.id}`, { token: user.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/api/v1/api-keys/${key.id}/toggle`, undefined, { token: user.token }), 404, 'NOT_FOUND');
    });

    it('answers 400 for a non-uuid id, 404 for an unknown one, 401 without credentials', async () => {
      const user = await app.registerUser();
      expectValidation(await app.delete('/api/v1/api-keys/123', { token: user.token }), 'id');
      expectError(await app.delete(`/api/v1/api-keys/${UNKNOWN_ID}`, { token: user.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/api/v1/api-keys/${UNKNOWN_ID}`), 401, 'UNAUTHORIZED');
    });
  });

  describe('using a key', () => {
    it('authenticates with X-API-Key or Authorization: Bearer when the key has the scope', async () => {
      const user = await app.registerUser();
      const key = (await createKey(user.token, { name: 'profile', scopes: ['profile:read'] })).body;
      const viaHeader = await app.get('/users/me', { apiKey: key.key });
      expect(viaHeader.status).toBe(200);
      expect(viaHeader.body.id).toBe(user.id);
      const viaBearer = await app.get('/users/me', { headers: { authorization: `Bearer ${key.key}` } });
      expect(viaBearer.status).toBe(200);
      expect(viaBearer.body.id).toBe(user.id);
    });

    it('answers 403 when the key lacks the scope', async () => {
      const user = await app.registerUser();
      const key = (await createKey(user.token)).body;
      expectError(await app.get('/users/me', { apiKey: key.key }), 403, 'FORBIDDEN');
    });

    it("accepts scope '*' everywhere keys are accepted", async () => {
      const user = await app.registerUser();
      const key = (await createKey(user.token, { name: 'all', scopes: ['*'] })).body;
      expect(key.scopes).toEqual(['*']);
      const response = await app.get('/users/me', { apiKey: key.key });
      expect(response.status).toBe(200);
      expect(response.body.username).toBe(user.username);
    });

    it('a disabled key answers 401 at once; re-enabled it works again', async () => {
      const user = await app.registerUser();
      const key = (await createKey(user.token, { name: 'toggled', scopes: ['profile:read'] })).body;
      expect((await app.get('/users/me', { apiKey: key.key })).status).toBe(200);

      expect((await app.put(`/api/v1/api-keys/${key.id}/toggle`, { enabled: false }, { token: user.token })).status).toBe(200);
      expectError(await app.get('/users/me', { apiKey: key.key }), 401, 'UNAUTHORIZED');

      expect((await app.post(`/api/v1/api-keys/${key.id}/toggle`, undefined, { token: user.token })).body.enabled).toBe(true);
      expect((await app.get('/users/me', { apiKey: key.key })).status).toBe(200);
    });

    it('an expired key answers 401', async () => {
      const user = await app.registerUser();
      const expiresAt = Date.now() + 2000;
      const key = (
        await createKey(user.token, { name: 'short-lived', scopes: ['profile:read'], expires_at: new Date(expiresAt).toISOString() })
      ).body;
      expect((await app.get('/users/me', { apiKey: key.key })).status).toBe(200);
      await sleep(Math.max(0, expiresAt - Date.now()) + 300);
      expectError(await app.get('/users/me', { apiKey: key.key }), 401, 'UNAUTHORIZED');
    });

    it('rejects a well-formed key that does not exist', async () => {
      expectError(await app.get('/users/me', { apiKey: `sk-${'A'.repeat(48)}` }), 401, 'UNAUTHORIZED');
    });

    it('is not accepted where only a user login is (managing keys)', async () => {
      const user = await app.registerUser();
      const key = (await createKey(user.token, { name: 'all', scopes: ['*'] })).body;
      expectError(await app.post('/api/v1/api-keys', { name: 'via key' }, { apiKey: key.key }), 403, 'FORBIDDEN');
      expect((await listKeys(user.token)).body.pagination.total).toBe(1);
    });

    it('records usage_count and last_used_at', async () => {
      const user = await app.registerUser();
      const key = (await createKey(user.token, { name: 'counted', scopes: ['profile:read'] })).body;
      const before = Date.now();
      for (let i = 0; i < 3; i++) expect((await app.get('/users/me', { apiKey: key.key })).status).toBe(200);

      const poll = async (count: number) => {
        const deadline = Date.now() + 3500;
        let listed: any;
        do {
          listed = (await listKeys(user.token)).body.api_keys[0];
          if (listed.usage_count >= count && listed.last_used_at) return listed;
          await sleep(200);
        } while (Date.now() < deadline);
        return listed;
      };

      const first = await poll(3);
      expect(first.usage_count).toBe(3);
      expect(first.last_used_at).not.toBeNull();
      expect(new Date(first.last_used_at).getTime()).toBeGreaterThanOrEqual(before - 1000);

      await sleep(50);
      expect((await app.get('/users/me', { apiKey: key.key })).status).toBe(200);
      const second = await poll(4);
      expect(second.usage_count).toBe(4);
      expect(new Date(second.last_used_at).getTime()).toBeGreaterThan(new Date(first.last_used_at).getTime());
    });

    it("does not count a disabled key's refused attempts", async () => {
      const user = await app.registerUser();
      const key = (await createKey(user.token, { name: 'disabled', scopes: ['profile:read'] })).body;
      expect((await app.put(`/api/v1/api-keys/${key.id}/toggle`, { enabled: false }, { token: user.token })).status).toBe(200);
      for (let i = 0; i < 3; i++) expectError(await app.get('/users/me', { apiKey: key.key }), 401, 'UNAUTHORIZED');
      await sleep(1500);
      const [after] = (await listKeys(user.token)).body.api_keys;
      expect(after.usage_count).toBe(0);
      expect(after.last_used_at).toBeNull();
    });
  });
});
