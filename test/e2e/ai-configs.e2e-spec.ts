import { QueryBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import dns from 'node:dns';
import { ResolveAiCredentialsQuery } from '../../src/modules/ai/queries/resolve-ai-credentials.query';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Users' AI configs, end to end: POST/GET /ai-configs, GET/PUT/DELETE
 * /ai-configs/:id, POST /ai-configs/:id/toggle. Input checks (catalog
 * providers, base_url hosts), owner rules, one active config per provider
 * under concurrent toggles, the 50-config limit, the key sealed at rest and
 * never shown or audited, and ResolveAiCredentialsQuery across restarts with
 * the same and with another ENCRYPTION_KEY.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const FIELDS = ['id', 'name', 'provider', 'base_url', 'api_key_masked', 'model', 'temperature', 'max_tokens', 'is_active', 'created_at', 'updated_at'].sort();

type User = Awaited<ReturnType<TestApp['registerUser']>>;

/** A key no other test uses, so finding it anywhere in the database means this test leaked it. */
const secretKey = () => `sk-test-${randomUUID().replace(/-/g, '')}wxyz`;

function expectConfigShape(body: any, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(body).sort()).toEqual(FIELDS);
  expect(body.id).toMatch(UUID);
  expect(body.created_at).toMatch(ISO);
  expect(body.updated_at).toMatch(ISO);
  expect(body).toMatchObject(expected);
}

describe('AI configs (/api/v1/ai-configs)', () => {
  let app: TestApp;
  let admin: string;
  let adminId: string;
  let alice: User;
  let bob: User;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    adminId = (await app.get('/users/me', { token: admin })).body.id;
    [alice, bob] = [await app.registerUser(), await app.registerUser()];
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function create(token: string, body: Record<string, unknown> = {}): Promise<any> {
    const response = await app.post('/ai-configs', { name: `Config ${randomUUID()}`, provider: 'openai', model: 'gpt-4o-mini', ...body }, { token });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** The user's active configs of a provider, straight from the table. */
  async function activeIds(userId: string, provider: string): Promise<string[]> {
    const { rows } = await app.query('SELECT id FROM ai_configs WHERE user_id = $1 AND provider = $2 AND is_active', [userId, provider]);
    return rows.map((row) => row.id);
  }

  /** The audit entry of this response's request (polled for: entries are written in batches). */
  async function auditEntryOf(response: ApiResponse): Promise<any> {
    const requestId = response.headers.get('x-request-id');
    const deadline = Date.now() + 3000;
    for (;;) {
      const { rows } = await app.query('SELECT user_id, action, resource_type, resource_id, status_code, metadata FROM audit_logs WHERE request_id = $1', [requestId]);
      if (rows.length > 0) return rows[0];
      if (Date.now() > deadline) throw new Error(`no audit entry for request ${requestId}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('documents every route in openapi.json under the ai-configs tag, with its errors', async () => {
    const { paths } = (await app.get('/openapi.json')).body;
    const operations: Record<string, any> = {
      'POST /ai-configs': paths['/api/v1/ai-configs'].post,
      'GET /ai-configs': paths['/api/v1/ai-configs'].get,
      'GET /ai-configs/{id}': paths['/api/v1/ai-configs/{id}'].get,
      'PUT /ai-configs/{id}': paths['/api/v1/ai-configs/{id}'].put,
      'DELETE /ai-configs/{id}': paths['/api/v1/ai-configs/{id}'].delete,
      'POST /ai-configs/{id}/toggle': paths['/api/v1/ai-configs/{id}/toggle'].post,
    };
    for (const [name, operation] of Object.entries(operations)) {
      expect([name, operation?.tags]).toEqual([name, ['ai-configs']]);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '401', '403']));
      if (name.includes('{id}')) expect([name, Object.keys(operation.responses)]).toEqual([name, expect.arrayContaining(['404'])]);
    }
    expect(Object.keys(operations['POST /ai-configs'].responses)).toEqual(expect.arrayContaining(['201', '409']));
    expect(Object.keys(operations['POST /ai-configs/{id}/toggle'].responses)).toEqual(expect.arrayContaining(['200']));
  });

  describe('POST /ai-configs', () => {
    it('creates a config with defaults, active, the key sealed in its column and shown only masked', async () => {
      const key = secretKey();
      const response = await app.post('/ai-configs', { name: '  GPT  ', provider: 'openai', model: 'gpt-4o', api_key: key }, { token: alice.token });
      expect(response.status).toBe(201);
      expectConfigShape(response.body, {
        name: 'GPT', provider: 'openai', base_url: null, api_key_masked: 'sk-…wxyz', model: 'gpt-4o', temperature: 0.7, max_tokens: 2048, is_active: true,
      });
      expect(JSON.stringify(response.body)).not.toContain(key.slice(0, -4));

      const { rows } = await app.query('SELECT user_id, api_key_sealed, api_key_masked, row_to_json(c)::text AS whole FROM ai_configs c WHERE id = $1', [response.body.id]);
      expect(rows[0].user_id).toBe(alice.id);
      expect(rows[0].api_key_sealed).toMatch(/^v1:[0-9a-f]{8}:/);
      expect(rows[0].api_key_sealed).not.toContain(key);
      expect(rows[0].whole).not.toContain(key);
      expect(rows[0].whole).not.toContain(key.slice(8, -4));
      expect(rows[0].api_key_masked).toBe('sk-…wxyz');

      const read = await app.get(`/ai-configs/${response.body.id}`, { token: alice.token });
      expect(read.status).toBe(200);
      expect(read.body).toEqual(response.body);
    });

    it('stores every field given; a config without a key (ollama) has no mask', async () => {
      const body = { name: 'Llama', provider: 'ollama', base_url: 'http://localhost:11434/v1', model: 'llama3.2', temperature: 0, max_tokens: 1_000_000, is_active: false };
      const response = await app.post('/ai-configs', body, { token: alice.token });
      expect(response.status).toBe(201);
      expectConfigShape(response.body, { ...body, api_key_masked: null });
      const { rows } = await app.query('SELECT api_key_sealed, api_key_masked FROM ai_configs WHERE id = $1', [response.body.id]);
      expect(rows[0]).toEqual({ api_key_sealed: null, api_key_masked: null });
    });

    it('allows loopback and private hosts, where ollama and self-hosted gateways live', async () => {
      for (const base_url of ['http://127.0.0.1:11434', 'http://localhost:8080/v1', 'http://10.0.0.5:8000/v1', 'https://192.168.1.20/v1', 'http://172.16.0.1:4000', 'http://[::1]:11434']) {
        const config = await create(bob.token, { provider: 'custom', base_url, is_active: false });
        expect(config.base_url).toBe(base_url);
      }
    });

    it('409 CONFLICT for a name I already use; another user may use it', async () => {
      await create(alice.token, { name: 'Twice' });
      const again = await app.post('/ai-configs', { name: 'Twice', provider: 'deepseek', model: 'deepseek-chat' }, { token: alice.token });
      expectError(again, 409, 'CONFLICT');
      expect(again.body.error.details).toEqual({ field: 'name' });
      expect((await app.post('/ai-configs', { name: 'Twice', provider: 'deepseek', model: 'deepseek-chat' }, { token: bob.token })).status).toBe(201);
    });

    it.each([
      ['missing fields', {}, ['name', 'provider', 'model']],
      ['blank name', { name: '   ' }, ['name']],
      ['too-long name', { name: 'x'.repeat(101) }, ['name']],
      ['a line break in the name', { name: 'a\nb' }, ['name']],
      ['unknown provider', { provider: 'nope' }, ['provider']],
      ['a provider that is no key', { provider: 'Open AI' }, ['provider']],
      ['null provider', { provider: null }, ['provider']],
      ['link-local base_url', { base_url: 'http://169.254.169.254/latest/meta-data' }, ['base_url']],
      ['link-local base_url in another spelling', { base_url: 'http://0xA9FEA9FE/' }, ['base_url']],
      ['link-local base_url as an integer', { base_url: 'http://2852039166/' }, ['base_url']],
      ['IPv4-mapped link-local base_url', { base_url: 'http://[::ffff:169.254.169.254]/' }, ['base_url']],
      ['IPv6 link-local base_url', { base_url: 'http://[fe80::1]:11434/' }, ['base_url']],
      ['metadata host', { base_url: 'http://metadata.google.internal/computeMetadata/v1' }, ['base_url']],
      ['metadata host with a trailing dot', { base_url: 'http://METADATA.google.internal./' }, ['base_url']],
      ['Alibaba metadata address', { base_url: 'http://100.100.100.200/latest' }, ['base_url']],
      ['AWS IPv6 metadata address', { base_url: 'http://[fd00:ec2::254]/' }, ['base_url']],
      ['ftp base_url', { base_url: 'ftp://example.com/models' }, ['base_url']],
      ['javascript: base_url', { base_url: 'javascript:alert(1)' }, ['base_url']],
      ['base_url with credentials', { base_url: 'https://user:pass@api.example.com/v1' }, ['base_url']],
      ['a host that does not resolve', { base_url: 'http://no-such-host.invalid/v1' }, ['base_url']],
      ['temperature above 2', { temperature: 2.01 }, ['temperature']],
      ['negative temperature', { temperature: -0.1 }, ['temperature']],
      ['temperature as text', { temperature: '0.5' }, ['temperature']],
      ['null temperature', { temperature: null }, ['temperature']],
      ['max_tokens 0', { max_tokens: 0 }, ['max_tokens']],
      ['max_tokens over a million', { max_tokens: 1_000_001 }, ['max_tokens']],
      ['fractional max_tokens', { max_tokens: 10.5 }, ['max_tokens']],
      ['empty model', { model: '' }, ['model']],
      ['too-long model', { model: 'm'.repeat(101) }, ['model']],
      ['empty api_key', { api_key: '   ' }, ['api_key']],
      ['api_key with a line break', { api_key: 'sk-abc\ndef' }, ['api_key']],
      ['is_active as text', { is_active: 'yes' }, ['is_active']],
      ['unknown field', { owner_id: UNKNOWN_ID }, ['owner_id']],
    ])('400 VALIDATION_ERROR for %s', async (_label, overrides, fields) => {
      const body = Object.keys(overrides).length === 0 ? {} : { name: `Bad ${randomUUID()}`, provider: 'openai', model: 'gpt-4o', ...overrides };
      const response = await app.post('/ai-configs', body, { token: alice.token });
      expectValidation(response, ...fields);
      // A refused request's audit entry records its error, not what it sent.
      const entry = await auditEntryOf(response);
      expect(entry).toMatchObject({ action: 'ai_config.create', status_code: 400 });
      expect(JSON.stringify(entry.metadata)).not.toContain('169.254');
    });

    it('400 on base_url for a host name that resolves to a link-local address (every address is checked)', async () => {
      const lookup = jest.spyOn(dns.promises, 'lookup').mockImplementation((async (host: string) => {
        if (host === 'sneaky.example') return [{ address: '93.184.215.14', family: 4 }, { address: '169.254.169.254', family: 4 }];
        if (host === 'sneaky6.example') return [{ address: 'fe80::a9fe:a9fe%eth0', family: 6 }];
        if (host === 'fine.example') return [{ address: '10.1.2.3', family: 4 }, { address: 'fd12::1', family: 6 }];
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      }) as any);
      try {
        for (const host of ['sneaky.example', 'sneaky6.example']) {
          const response = await app.post('/ai-configs', { name: `Sneaky ${host}`, provider: 'custom', model: 'm', base_url: `https://${host}/v1` }, { token: alice.token });
          expectValidation(response, 'base_url');
          expect(response.body.error.details.fields.base_url[0]).toContain('resolves to');
        }
        await create(alice.token, { provider: 'custom', base_url: 'https://fine.example/v1', is_active: false });
        expect(lookup).toHaveBeenCalledWith('sneaky.example', expect.objectContaining({ all: true }));
      } finally {
        lookup.mockRestore();
      }
    });

    it('400 on provider for a provider the catalog has switched off', async () => {
      await app.query(`UPDATE ai_providers SET is_active = false WHERE provider_key = 'siliconflow'`);
      try {
        const response = await app.post('/ai-configs', { name: 'Off', provider: 'siliconflow', model: 'Qwen/Qwen2.5-7B-Instruct' }, { token: alice.token });
        expectValidation(response, 'provider');
        expect(response.body.error.details.fields.provider[0]).toContain('switched off');
      } finally {
        await app.query(`UPDATE ai_providers SET is_active = true WHERE provider_key = 'siliconflow'`);
      }
    });

    it(`403 FORBIDDEN past 50 configs per user, exact under concurrent creates`, async () => {
      const user = await app.registerUser();
      const responses = await Promise.all(
        Array.from({ length: 60 }, (_, i) => app.post('/ai-configs', { name: `C${i}`, provider: 'openai', model: 'gpt-4o', is_active: false }, { token: user.token })),
      );
      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 201)).toHaveLength(50);
      expect(statuses.filter((status) => status === 403)).toHaveLength(10);
      const refused = responses.find((response) => response.status === 403)!;
      expectError(refused, 403, 'FORBIDDEN');
      expect(refused.body.error.message).toMatch(/50 AI configs.*delete one first/);
      expect(refused.body.error.details).toEqual({ limit: 50, current: 50 });
      expect((await app.query('SELECT count(*)::int AS n FROM ai_configs WHERE user_id = $1', [user.id])).rows[0].n).toBe(50);
    });
  });

  describe('GET /ai-configs', () => {
    it('lists my configs newest first with pagination, filtered by provider; never anyone else\'s', async () => {
      const user = await app.registerUser();
      const a = await create(user.token, { provider: 'anthropic', model: 'claude-sonnet-4', api_key: secretKey() });
      const b = await create(user.token, { provider: 'openai' });
      const c = await create(user.token, { provider: 'anthropic', model: 'claude-haiku', is_active: false });
      await create(alice.token, { provider: 'anthropic' });

      const all = await app.get('/ai-configs', { token: user.token });
      expect(all.status).toBe(200);
      expect(Object.keys(all.body).sort()).toEqual(['ai_configs', 'pagination']);
      expect(all.body.ai_configs.map((config: any) => config.id)).toEqual([c.id, b.id, a.id]);
      expect(all.body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
      for (const config of all.body.ai_configs) expectConfigShape(config);

      const anthropic = await app.get('/ai-configs?provider=anthropic&limit=1&page=2', { token: user.token });
      expect(anthropic.body.ai_configs.map((config: any) => config.id)).toEqual([a.id]);
      expect(anthropic.body.pagination).toEqual({ total: 2, page: 2, limit: 1, pages: 2 });
      expect((await app.get('/ai-configs?provider=qwen', { token: user.token })).body.pagination.total).toBe(0);
    });

    it('400 for a bad filter, page or unknown parameter', async () => {
      expectValidation(await app.get('/ai-configs?provider=Not%20A%20Key', { token: alice.token }), 'provider');
      expectValidation(await app.get('/ai-configs?limit=101', { token: alice.token }), 'limit');
      expectValidation(await app.get('/ai-configs?user_id=x', { token: alice.token }), 'user_id');
    });
  });

  describe('GET, PUT, DELETE /ai-configs/:id', () => {
    it('404 for another user\'s config and for an unknown id, on every route; 400 for an id that is no UUID', async () => {
      const bobs = await create(bob.token, { api_key: secretKey() });
      for (const id of [bobs.id, UNKNOWN_ID]) {
        expectError(await app.get(`/ai-configs/${id}`, { token: alice.token }), 404, 'NOT_FOUND');
        expectError(await app.put(`/ai-configs/${id}`, { name: 'Mine now' }, { token: alice.token }), 404, 'NOT_FOUND');
        expectError(await app.post(`/ai-configs/${id}/toggle`, undefined, { token: alice.token }), 404, 'NOT_FOUND');
        expectError(await app.delete(`/ai-configs/${id}`, { token: alice.token }), 404, 'NOT_FOUND');
      }
      const { rows } = await app.query('SELECT name, is_active FROM ai_configs WHERE id = $1', [bobs.id]);
      expect(rows[0]).toEqual({ name: bobs.name, is_active: true });
      expectValidation(await app.get('/ai-configs/not-a-uuid', { token: alice.token }), 'id');
    });

    it('PUT changes the fields given; api_key replaces or (null) removes the key, base_url: null removes the URL', async () => {
      const config = await create(alice.token, { provider: 'custom', base_url: 'http://127.0.0.1:4000/v1', api_key: 'sk-old-key-000000', is_active: false });
      const newKey = 'gsk_' + randomUUID().replace(/-/g, '') + '9876';
      const changed = await app.put(`/ai-configs/${config.id}`, { model: 'other-model', temperature: 1.25, max_tokens: 100, api_key: newKey }, { token: alice.token });
      expect(changed.status).toBe(200);
      expectConfigShape(changed.body, {
        id: config.id, name: config.name, provider: 'custom', base_url: 'http://127.0.0.1:4000/v1', model: 'other-model', temperature: 1.25, max_tokens: 100,
        api_key_masked: 'gsk_…9876', is_active: false,
      });
      expect(Date.parse(changed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(config.updated_at));
      expect((await app.get(`/ai-configs/${config.id}`, { token: alice.token })).body).toEqual(changed.body);

      const cleared = await app.put(`/ai-configs/${config.id}`, { api_key: null, base_url: null }, { token: alice.token });
      expect(cleared.status).toBe(200);
      expect(cleared.body).toMatchObject({ api_key_masked: null, base_url: null, model: 'other-model' });
      const { rows } = await app.query('SELECT api_key_sealed, api_key_masked, base_url FROM ai_configs WHERE id = $1', [config.id]);
      expect(rows[0]).toEqual({ api_key_sealed: null, api_key_masked: null, base_url: null });
    });

    it.each([
      ['null name', { name: null }, ['name']],
      ['null model', { model: null }, ['model']],
      ['unknown provider', { provider: 'nope' }, ['provider']],
      ['link-local base_url', { base_url: 'http://169.254.1.1:8080' }, ['base_url']],
      ['metadata host', { base_url: 'https://metadata.google.internal' }, ['base_url']],
      ['ftp base_url', { base_url: 'ftp://models.example.com' }, ['base_url']],
      ['temperature 3', { temperature: 3 }, ['temperature']],
      ['max_tokens 0', { max_tokens: 0 }, ['max_tokens']],
      ['null is_active', { is_active: null }, ['is_active']],
      ['unknown field', { user_id: UNKNOWN_ID }, ['user_id']],
    ])('PUT: 400 VALIDATION_ERROR for %s, nothing changed', async (_label, body, fields) => {
      // A public address, not a name: the check resolves names, and test machines may have no DNS.
      const config = await create(alice.token, { base_url: 'https://203.0.113.7/v1', is_active: false });
      expectValidation(await app.put(`/ai-configs/${config.id}`, body, { token: alice.token }), ...fields);
      expect((await app.get(`/ai-configs/${config.id}`, { token: alice.token })).body).toEqual(config);
    });

    it('PUT: 409 CONFLICT for a name the owner already uses', async () => {
      const first = await create(alice.token);
      const second = await create(alice.token);
      const response = await app.put(`/ai-configs/${second.id}`, { name: first.name }, { token: alice.token });
      expectError(response, 409, 'CONFLICT');
      expect(response.body.error.details).toEqual({ field: 'name' });
    });

    it('DELETE removes the config and its key; a second delete is 404', async () => {
      const config = await create(alice.token, { api_key: secretKey() });
      const deleted = await app.delete(`/ai-configs/${config.id}`, { token: alice.token });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ success: true });
      expect((await app.query('SELECT count(*)::int AS n FROM ai_configs WHERE id = $1', [config.id])).rows[0].n).toBe(0);
      expectError(await app.get(`/ai-configs/${config.id}`, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/ai-configs/${config.id}`, { token: alice.token }), 404, 'NOT_FOUND');
    });

    it('an admin reads, changes, toggles and deletes anyone\'s config; the audit names the owner', async () => {
      const config = await create(alice.token, { provider: 'qwen', model: 'qwen-max', is_active: false });
      expect((await app.get(`/ai-configs/${config.id}`, { token: admin })).body).toEqual(config);
      const renamed = await app.put(`/ai-configs/${config.id}`, { model: 'qwen-plus' }, { token: admin });
      expect(renamed.status).toBe(200);
      expect(await auditEntryOf(renamed)).toMatchObject({
        user_id: adminId, action: 'ai_config.update', resource_type: 'ai_config', resource_id: config.id, metadata: { owner_id: alice.id, fields: ['model'] },
      });
      const toggled = await app.post(`/ai-configs/${config.id}/toggle`, undefined, { token: admin });
      expect(toggled.body.is_active).toBe(true);
      expect(await auditEntryOf(toggled)).toMatchObject({ user_id: adminId, action: 'ai_config.toggle', metadata: { owner_id: alice.id, is_active: true } });
      // The admin's own list stays the admin's.
      expect((await app.get('/ai-configs', { token: admin })).body.ai_configs.map((c: any) => c.id)).not.toContain(config.id);
      const deleted = await app.delete(`/ai-configs/${config.id}`, { token: admin });
      expect(deleted.status).toBe(200);
      expect(await auditEntryOf(deleted)).toMatchObject({ user_id: adminId, action: 'ai_config.delete', metadata: { owner_id: alice.id } });
    });
  });

  describe('one active config per provider', () => {
    it('creating, updating or toggling one on deactivates my other config of that provider only', async () => {
      const user = await app.registerUser();
      const first = await create(user.token, { provider: 'openai' });
      const claude = await create(user.token, { provider: 'anthropic' });
      expect(await activeIds(user.id, 'openai')).toEqual([first.id]);

      const second = await create(user.token, { provider: 'openai' });
      expect(second.is_active).toBe(true);
      expect(await activeIds(user.id, 'openai')).toEqual([second.id]);
      expect(await activeIds(user.id, 'anthropic')).toEqual([claude.id]);

      const back = await app.post(`/ai-configs/${first.id}/toggle`, undefined, { token: user.token });
      expect(back.status).toBe(200);
      expectConfigShape(back.body, { id: first.id, is_active: true });
      expect(await auditEntryOf(back)).toMatchObject({ action: 'ai_config.toggle', resource_id: first.id, metadata: { is_active: true, deactivated: 1 } });
      expect(await activeIds(user.id, 'openai')).toEqual([first.id]);
      expect((await app.get(`/ai-configs/${second.id}`, { token: user.token })).body.is_active).toBe(false);

      const off = await app.post(`/ai-configs/${first.id}/toggle`, undefined, { token: user.token });
      expect(off.body.is_active).toBe(false);
      expect(await activeIds(user.id, 'openai')).toEqual([]);

      await app.put(`/ai-configs/${second.id}`, { is_active: true }, { token: user.token });
      expect(await activeIds(user.id, 'openai')).toEqual([second.id]);
      // Moving an active config to another provider deactivates that provider's active one.
      await app.put(`/ai-configs/${second.id}`, { provider: 'anthropic', model: 'claude-opus-4' }, { token: user.token });
      expect(await activeIds(user.id, 'anthropic')).toEqual([second.id]);
      expect(await activeIds(user.id, 'openai')).toEqual([]);
      // Another user's configs are untouched by all of it.
      const alices = await create(alice.token, { provider: 'anthropic' });
      expect(await activeIds(alice.id, 'anthropic')).toEqual([alices.id]);
      expect(await activeIds(user.id, 'anthropic')).toEqual([second.id]);
    });

    it('20 concurrent toggles over several configs never leave two active', async () => {
      const user = await app.registerUser();
      const configs: any[] = [];
      for (let i = 0; i < 4; i++) configs.push(await create(user.token, { provider: 'deepseek', model: 'deepseek-chat', is_active: false }));
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => app.post(`/ai-configs/${configs[i % 4].id}/toggle`, undefined, { token: user.token })));
      expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
      expect((await activeIds(user.id, 'deepseek')).length).toBeLessThanOrEqual(1);
      // Whatever order they ran in, a config is active only because one of the toggles turned it on.
      const turnedOn = new Set(responses.filter((response) => response.body.is_active).map((response) => response.body.id));
      for (const id of await activeIds(user.id, 'deepseek')) expect(turnedOn.has(id)).toBe(true);
    });

    it('20 concurrent toggles of one config flip it 20 times (back where it started)', async () => {
      const user = await app.registerUser();
      const config = await create(user.token, { provider: 'deepseek', model: 'deepseek-chat', is_active: false });
      const other = await create(user.token, { provider: 'deepseek', model: 'deepseek-reasoner' });
      const responses = await Promise.all(Array.from({ length: 20 }, () => app.post(`/ai-configs/${config.id}/toggle`, undefined, { token: user.token })));
      expect(responses.map((response) => response.status)).toEqual(Array(20).fill(200));
      const states = responses.map((response) => response.body.is_active);
      expect(states.filter(Boolean)).toHaveLength(10);
      expect((await app.get(`/ai-configs/${config.id}`, { token: user.token })).body.is_active).toBe(false);
      expect((await app.get(`/ai-configs/${other.id}`, { token: user.token })).body.is_active).toBe(false);
      expect((await activeIds(user.id, 'deepseek')).length).toBeLessThanOrEqual(1);
    });

    it('concurrent creates and updates turning configs on leave exactly one active', async () => {
      const user = await app.registerUser();
      const existing: any[] = [];
      for (let i = 0; i < 5; i++) existing.push(await create(user.token, { provider: 'qwen', model: 'qwen-max', is_active: false }));
      const responses = await Promise.all([
        ...Array.from({ length: 10 }, (_, i) => app.post('/ai-configs', { name: `Race ${i}`, provider: 'qwen', model: 'qwen-max', is_active: true }, { token: user.token })),
        ...existing.map((config) => app.put(`/ai-configs/${config.id}`, { is_active: true }, { token: user.token })),
        ...existing.map((config) => app.post(`/ai-configs/${config.id}/toggle`, undefined, { token: user.token })),
      ]);
      expect(responses.every((response) => response.status === 200 || response.status === 201)).toBe(true);
      expect((await activeIds(user.id, 'qwen')).length).toBeLessThanOrEqual(1);
    });

    it('the database itself refuses a second active config of a provider', async () => {
      const user = await app.registerUser();
      const one = await create(user.token, { provider: 'openai' });
      const two = await create(user.token, { provider: 'openai', is_active: false });
      await expect(app.query('UPDATE ai_configs SET is_active = true WHERE id = $1', [two.id])).rejects.toThrow(/ai_configs_one_active_key/);
      expect(await activeIds(user.id, 'openai')).toEqual([one.id]);
    });
  });

  describe('credentials and the audit trail', () => {
    it('401 without credentials and 403 with an API key, on every route', async () => {
      const config = await create(alice.token);
      const key = await app.post('/api-keys', { name: 'ai', scopes: ['*'] }, { token: alice.token });
      expect(key.status).toBe(201);
      const calls: Array<[string, string, unknown?]> = [
        ['POST', '/ai-configs', { name: 'By key', provider: 'openai', model: 'gpt-4o' }],
        ['GET', '/ai-configs'],
        ['GET', `/ai-configs/${config.id}`],
        ['PUT', `/ai-configs/${config.id}`, { name: 'By key' }],
        ['POST', `/ai-configs/${config.id}/toggle`],
        ['DELETE', `/ai-configs/${config.id}`],
      ];
      for (const [method, path, body] of calls) {
        expectError(await app.request(method, path, { body }), 401, 'UNAUTHORIZED');
        const byKey = await app.request(method, path, { body, apiKey: key.body.key });
        expect([method, path, byKey.status, byKey.body.error?.code]).toEqual([method, path, 403, 'FORBIDDEN']);
      }
      expect((await app.get(`/ai-configs/${config.id}`, { token: alice.token })).body).toEqual(config);
    });

    it('audits writes by field name; no audit row holds the key', async () => {
      const key = secretKey();
      const created = await app.post('/ai-configs', { name: `Audited ${randomUUID()}`, provider: 'openai', model: 'gpt-4o', api_key: key }, { token: alice.token });
      expect(created.status).toBe(201);
      expect(await auditEntryOf(created)).toMatchObject({
        user_id: alice.id, action: 'ai_config.create', resource_type: 'ai_config', resource_id: created.body.id, status_code: 201,
        metadata: { fields: ['name', 'provider', 'model', 'api_key'] },
      });
      const newKey = secretKey();
      const updated = await app.put(`/ai-configs/${created.body.id}`, { api_key: newKey }, { token: alice.token });
      expect(await auditEntryOf(updated)).toMatchObject({ action: 'ai_config.update', metadata: { fields: ['api_key'] } });
      // A refused write with a key in it.
      const refused = await app.post('/ai-configs', { name: 'Refused', provider: 'nope', model: 'm', api_key: `${key}-refused` }, { token: alice.token });
      expect((await auditEntryOf(refused)).status_code).toBe(400);

      for (const secret of [key, newKey, key.slice(8, -4), newKey.slice(8, -4)]) {
        const { rows } = await app.query(`SELECT count(*)::int AS n FROM audit_logs a WHERE a::text LIKE '%' || $1 || '%'`, [secret]);
        expect([secret, rows[0].n]).toEqual([secret, 0]);
      }
    });
  });
});

describe('ResolveAiCredentialsQuery across restarts', () => {
  let first: TestApp | undefined;
  let second: TestApp | undefined;
  let third: TestApp | undefined;

  afterAll(async () => {
    await first?.stop({ keepDatabase: true }).catch(() => undefined);
    await second?.stop({ keepDatabase: true }).catch(() => undefined);
    await third?.stop();
  });

  it('opens the key after a restart with the same ENCRYPTION_KEY; another key fails with a clear error, never garbage', async () => {
    first = await TestApp.start({ ENCRYPTION_KEY: 'first-encryption-key' });
    const databaseName = first.databaseNameForSharing;
    const user = await first.registerUser();
    const key = secretKey();
    const body = { name: 'Main', provider: 'anthropic', model: 'claude-sonnet-4', api_key: key, temperature: 0.3, max_tokens: 4096, base_url: 'https://203.0.113.8' };
    const writes = [
      await first.post('/ai-configs', body, { token: user.token }),
      await first.post('/ai-configs', { name: 'Local', provider: 'ollama', model: 'llama3.2' }, { token: user.token }),
      await first.post('/ai-configs', { name: 'Inactive', provider: 'openai', model: 'gpt-4o', api_key: secretKey(), is_active: false }, { token: user.token }),
    ];
    expect(writes.map((response) => response.status)).toEqual([201, 201, 201]);
    const [created, keyless] = writes.map((response) => response.body);
    const linkLocal = { name: 'Link-local', provider: 'custom', model: 'm', base_url: 'http://169.254.10.10:8080/v1', is_active: false };
    expectValidation(await first.post('/ai-configs', linkLocal, { token: user.token }), 'base_url');
    await first.stop({ keepDatabase: true });
    first = undefined;

    second = await TestApp.start({ ENCRYPTION_KEY: 'first-encryption-key', AI_ALLOW_LINK_LOCAL_BASE_URLS: 'true' }, { databaseName });
    const queries = second.running.app.get(QueryBus);
    expect(await queries.execute(new ResolveAiCredentialsQuery(user.id, 'anthropic'))).toEqual({
      source: 'user_config', config_id: created.id, base_url: 'https://203.0.113.8', api_key: key, model: 'claude-sonnet-4', temperature: 0.3, max_tokens: 4096,
    });
    expect(await queries.execute(new ResolveAiCredentialsQuery(user.id, 'ollama'))).toEqual({
      source: 'user_config', config_id: keyless.id, base_url: null, api_key: null, model: 'llama3.2', temperature: 0.7, max_tokens: 2048,
    });
    // Only an active config answers.
    expect(await queries.execute(new ResolveAiCredentialsQuery(user.id, 'openai'))).toBeNull();
    expect(await queries.execute(new ResolveAiCredentialsQuery(user.id, 'deepseek'))).toBeNull();
    // AI_ALLOW_LINK_LOCAL_BASE_URLS=true lets a base_url name a link-local host (the first app refused it).
    expect((await second.post('/ai-configs', linkLocal, { token: user.token })).status).toBe(201);
    await second.stop({ keepDatabase: true });
    second = undefined;

    third = await TestApp.start({ ENCRYPTION_KEY: 'another-encryption-key' }, { databaseName });
    const others = third.running.app.get(QueryBus);
    const failure = await others.execute(new ResolveAiCredentialsQuery(user.id, 'anthropic')).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toMatchObject({ code: 'UNPROCESSABLE', details: { config_id: created.id, field: 'api_key' } });
    expect((failure as Error).message).toMatch(/API key of AI config "Main" cannot be decrypted.*Save the key again/);
    // A config without a key still resolves, and the listing (masks only) still works.
    expect(await others.execute(new ResolveAiCredentialsQuery(user.id, 'ollama'))).toMatchObject({ api_key: null });
    const token = (await third.post('/auth/login', { username: user.username, password: user.password })).body.tokens.access;
    const listed = await third.get('/ai-configs?provider=anthropic', { token });
    expect(listed.body.ai_configs[0]).toMatchObject({ id: created.id, api_key_masked: 'sk-…wxyz' });
    // Saving the key again under the new encryption key mends it.
    expect((await third.put(`/ai-configs/${created.id}`, { api_key: key }, { token })).status).toBe(200);
    expect(await others.execute(new ResolveAiCredentialsQuery(user.id, 'anthropic'))).toMatchObject({ api_key: key });
  });

  it('opens keys sealed under a previous key listed in ENCRYPTION_KEYS_PREVIOUS', async () => {
    // Runs on the database the previous test left (the third app, now sealed under "another-encryption-key").
    const databaseName = third!.databaseNameForSharing;
    const users = await third!.query<{ id: string }>(`SELECT user_id AS id FROM ai_configs WHERE provider = 'anthropic' AND is_active`);
    await third!.stop({ keepDatabase: true });
    third = await TestApp.start({ ENCRYPTION_KEY: 'rotated-encryption-key', ENCRYPTION_KEYS_PREVIOUS: 'another-encryption-key' }, { databaseName });
    const resolved = await third.running.app.get(QueryBus).execute(new ResolveAiCredentialsQuery(users.rows[0].id, 'anthropic'));
    expect(resolved?.api_key).toMatch(/^sk-test-/);
  });
});
