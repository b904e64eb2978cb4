import { setTimeout as sleep } from 'node:timers/promises';
import { QueryBus } from '@nestjs/cqrs';
import { SecretBox } from '../../src/common/crypto/secret-box';
import { GetModelQuery } from '../../src/modules/ai-catalog/queries/get-model.query';
import { GetProviderQuery } from '../../src/modules/ai-catalog/queries/get-provider.query';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * The AI catalog, end to end: GET/POST /providers, GET/PUT/DELETE
 * /providers/:id, GET/POST /models, PUT/DELETE /models/:id, POST
 * /models/:id/toggle and POST /models/batch-update-order. Who may call what
 * (any user reads providers, anyone reads models, only an admin with a login
 * changes either), the seeded catalog, input checks, platform keys stored
 * sealed and shown only masked, soft deletes, and reorders that change all
 * models or none. Also GetProviderQuery and GetModelQuery, which other
 * contexts send.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const PROVIDER_FIELDS = [
  'id', 'provider_key', 'display_name', 'default_base_url', 'api_style', 'has_platform_key', 'api_key_masked', 'is_active', 'sort_order', 'health', 'created_at', 'updated_at',
].sort();
const MODEL_FIELDS = [
  'id', 'model_name', 'display_name', 'provider', 'model_type', 'max_tokens', 'supports_streaming', 'supports_function_calling', 'supports_vision',
  'input_price_per_1k', 'output_price_per_1k', 'description', 'is_active', 'sort_order', 'created_at', 'updated_at',
].sort();
/** The key the test app seals with (test/support/test-app.ts). */
const ENCRYPTION_KEY = 'test-encryption-key';

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const unique = (label: string) => `${label}-${Math.random().toString(36).slice(2, 10)}`;

function expectProviderShape(body: any, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(body).sort()).toEqual(PROVIDER_FIELDS);
  expect(body.id).toMatch(UUID);
  expect(body.created_at).toMatch(ISO);
  expect(body.updated_at).toMatch(ISO);
  expect(body).toMatchObject(expected);
}

function expectModelShape(body: any, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(body).sort()).toEqual(MODEL_FIELDS);
  expect(body.id).toMatch(UUID);
  expect(typeof body.input_price_per_1k).toBe('number');
  expect(typeof body.output_price_per_1k).toBe('number');
  expect(body).toMatchObject(expected);
}

describe('AI catalog (/api/v1/providers, /api/v1/models)', () => {
  let app: TestApp;
  let admin: string;
  let user: User;
  /** An admin's API key with every scope: API keys still never reach the catalog's admin routes. */
  let adminKey: string;
  let userKey: string;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    user = await app.registerUser();
    adminKey = (await app.post('/api-keys', { name: 'all', scopes: ['*'] }, { token: admin })).body.key;
    userKey = (await app.post('/api-keys', { name: 'exec', scopes: ['execute'] }, { token: user.token })).body.key;
    expect(adminKey).toMatch(/^sk-/);
    expect(userKey).toMatch(/^sk-/);
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** A new provider with a unique key, made by the admin. */
  async function createProvider(overrides: Record<string, unknown> = {}): Promise<any> {
    const response = await app.post('/providers', { provider_key: unique('p'), display_name: 'Test provider', api_style: 'openai', ...overrides }, { token: admin });
    expect(response.status).toBe(201);
    return response.body;
  }

  /** A new model with a unique name, made by the admin. */
  async function createModel(overrides: Record<string, unknown> = {}): Promise<any> {
    const response = await app.post('/models', { model_name: unique('m'), display_name: 'Test model', provider: 'custom', max_tokens: 4096, ...overrides }, { token: admin });
    if (response.status !== 201) throw new Error(`create model: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** The audit entry of this response's request (written before the response by default; polled for, up to 3 s). */
  async function auditEntryOf(response: ApiResponse): Promise<any> {
    const requestId = response.headers.get('x-request-id');
    const deadline = Date.now() + 3000;
    for (;;) {
      const { rows } = await app.query('SELECT action, resource_type, resource_id, status_code, metadata FROM audit_logs WHERE request_id = $1', [requestId]);
      if (rows.length > 0) return rows[0];
      if (Date.now() > deadline) throw new Error(`no audit entry for request ${requestId}`);
      await sleep(25);
    }
  }

  describe('who may call what', () => {
    it('answers 401 without credentials, except GET /models', async () => {
      const id = UNKNOWN_ID;
      const calls: Array<[string, string, unknown?]> = [
        ['GET', '/providers'], ['GET', `/providers/${id}`], ['POST', '/providers', {}], ['PUT', `/providers/${id}`, {}], ['DELETE', `/providers/${id}`],
        ['POST', '/models', {}], ['PUT', `/models/${id}`, {}], ['DELETE', `/models/${id}`], ['POST', `/models/${id}/toggle`],
        ['POST', '/models/batch-update-order', { items: [] }],
      ];
      for (const [method, path, body] of calls) {
        const response = await app.request(method, path, { body });
        expect([method, path, response.status, response.body?.error?.code]).toEqual([method, path, 401, 'UNAUTHORIZED']);
      }
      expect((await app.get('/models')).status).toBe(200);
    });

    it('answers 403 to a user (not an admin) and to API keys, even an admin\'s with every scope, on every change', async () => {
      const model = (await app.get('/models?limit=1')).body.models[0];
      const provider = (await app.get('/providers', { token: user.token })).body.providers[0];
      const calls: Array<[string, string, unknown?]> = [
        ['POST', '/providers', { provider_key: unique('p'), display_name: 'X', api_style: 'openai' }],
        ['PUT', `/providers/${provider.id}`, { display_name: 'Hijacked' }],
        ['DELETE', `/providers/${provider.id}`],
        ['POST', '/models', { model_name: unique('m'), display_name: 'X', provider: 'custom', max_tokens: 10 }],
        ['PUT', `/models/${model.id}`, { display_name: 'Hijacked' }],
        ['DELETE', `/models/${model.id}`],
        ['POST', `/models/${model.id}/toggle`],
        ['POST', '/models/batch-update-order', { items: [{ id: model.id, sort_order: 999 }] }],
      ];
      for (const [method, path, body] of calls) {
        for (const credentials of [{ token: user.token }, { apiKey: userKey }, { apiKey: adminKey }]) {
          const response = await app.request(method, path, { ...credentials, body });
          expect([method, path, Object.keys(credentials)[0], response.status, response.body?.error?.code]).toEqual([method, path, Object.keys(credentials)[0], 403, 'FORBIDDEN']);
        }
      }
      // Nothing changed.
      const after = (await app.get(`/providers/${provider.id}`, { token: user.token })).body;
      expect(after).toEqual(provider);
      expect((await app.get('/models?limit=1')).body.models[0]).toEqual(model);
    });

    it('refuses API keys on GET /providers (a user login is needed); the model list answers anyone', async () => {
      expectError(await app.get('/providers', { apiKey: adminKey }), 403, 'FORBIDDEN');
      expect((await app.get('/models', { apiKey: userKey })).status).toBe(200);
    });
  });

  describe('providers', () => {
    it('lists the seven seeded providers to any logged-in user, by sort_order, without keys', async () => {
      const response = await app.get('/providers', { token: user.token });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['providers']);
      const seeded = response.body.providers.filter((p: any) => ['openai', 'anthropic', 'qwen', 'siliconflow', 'deepseek', 'ollama', 'custom'].includes(p.provider_key));
      expect(seeded.map((p: any) => [p.provider_key, p.default_base_url, p.api_style])).toEqual([
        ['openai', 'https://api.openai.com/v1', 'openai'],
        ['anthropic', 'https://api.anthropic.com', 'anthropic'],
        ['qwen', 'https://dashscope.aliyuncs.com/compatible-mode/v1', 'openai'],
        ['siliconflow', 'https://api.siliconflow.cn/v1', 'openai'],
        ['deepseek', 'https://api.deepseek.com/v1', 'openai'],
        ['ollama', 'http://127.0.0.1:11434/v1', 'openai'],
        ['custom', null, 'openai'],
      ]);
      // Seeded rows have the same ids in every installation (the API's examples name them).
      expect(seeded[0].id).toBe('01938000-0000-7000-8000-000000000001');
      for (const provider of response.body.providers) expectProviderShape(provider);
      for (const provider of seeded) expect(provider).toMatchObject({ has_platform_key: false, api_key_masked: null, is_active: true });
      const orders = response.body.providers.map((p: any) => p.sort_order);
      expect(orders).toEqual([...orders].sort((a, b) => a - b));
    });

    it('shows one provider by id; an unknown id is 404, a malformed one 400', async () => {
      const openai = (await app.get('/providers', { token: user.token })).body.providers.find((p: any) => p.provider_key === 'openai');
      const response = await app.get(`/providers/${openai.id}`, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual(openai);
      expect((await app.get(`/providers/${openai.id.toUpperCase()}`, { token: admin })).body.id).toBe(openai.id);
      expectError(await app.get(`/providers/${UNKNOWN_ID}`, { token: user.token }), 404, 'NOT_FOUND');
      expectValidation(await app.get('/providers/not-a-uuid', { token: user.token }), 'id');
    });

    it('creates a provider; its key is stored sealed and shown only masked, to everyone, and never audited', async () => {
      const apiKey = `sk-proj-${'Q'.repeat(40)}wxyz`;
      const response = await app.post(
        '/providers',
        { provider_key: 'my-vllm', display_name: '  My vLLM  ', default_base_url: 'http://10.0.0.5:8000/v1', api_style: 'openai', api_key: apiKey, sort_order: 80 },
        { token: admin },
      );
      expect(response.status).toBe(201);
      expectProviderShape(response.body, {
        provider_key: 'my-vllm', display_name: 'My vLLM', default_base_url: 'http://10.0.0.5:8000/v1', api_style: 'openai',
        has_platform_key: true, api_key_masked: 'sk-…wxyz', is_active: true, sort_order: 80,
      });
      expect(JSON.stringify(response.body)).not.toContain('QQQQ');

      const { rows } = await app.query('SELECT api_key_sealed, api_key_mask FROM ai_providers WHERE id = $1', [response.body.id]);
      expect(rows[0].api_key_sealed).toMatch(/^v1:[0-9a-f]{8}:/);
      expect(rows[0].api_key_sealed).not.toContain(apiKey);
      expect(rows[0].api_key_sealed).not.toContain('QQQQ');
      expect(rows[0].api_key_mask).toBe('sk-…wxyz');
      // Sealed by the app's SecretBox: the app's ENCRYPTION_KEY opens it.
      expect(new SecretBox(ENCRYPTION_KEY).open(rows[0].api_key_sealed)).toBe(apiKey);

      const listed = (await app.get('/providers', { token: user.token })).body.providers.find((p: any) => p.provider_key === 'my-vllm');
      expect(listed).toEqual(response.body);
      expect((await app.get(`/providers/${response.body.id}`, { token: user.token })).body).toEqual(response.body);

      const entry = await auditEntryOf(response);
      expect(entry).toMatchObject({ action: 'ai_provider.create', resource_type: 'ai_provider', resource_id: response.body.id, status_code: 201 });
      expect(entry.metadata.fields).toEqual(expect.arrayContaining(['provider_key', 'api_key']));
      const leaked = await app.query(`SELECT count(*)::int AS n FROM audit_logs WHERE metadata::text LIKE '%QQQQ%'`);
      expect(leaked.rows[0].n).toBe(0);
    });

    it('answers 409 for a provider_key that exists', async () => {
      const response = await app.post('/providers', { provider_key: 'openai', display_name: 'Another OpenAI', api_style: 'openai' }, { token: admin });
      expectError(response, 409, 'CONFLICT');
      expect(response.body.error.details).toEqual({ field: 'provider_key' });
      expect((await auditEntryOf(response)).status_code).toBe(409);
    });

    it('refuses bad input with 400, naming each field', async () => {
      const valid = { provider_key: unique('p'), display_name: 'Ok', api_style: 'openai' };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...valid, provider_key: undefined }, 'provider_key'],
        [{ ...valid, provider_key: 'OpenAI' }, 'provider_key'],
        [{ ...valid, provider_key: '9lives' }, 'provider_key'],
        [{ ...valid, provider_key: 'a'.repeat(33) }, 'provider_key'],
        [{ ...valid, provider_key: 'has space' }, 'provider_key'],
        [{ ...valid, provider_key: 42 }, 'provider_key'],
        [{ ...valid, display_name: '   ' }, 'display_name'],
        [{ ...valid, display_name: 'x'.repeat(101) }, 'display_name'],
        [{ ...valid, display_name: 'two\nlines' }, 'display_name'],
        [{ ...valid, display_name: null }, 'display_name'],
        [{ ...valid, api_style: 'google' }, 'api_style'],
        [{ ...valid, api_style: undefined }, 'api_style'],
        [{ ...valid, default_base_url: 'ftp://example.com/v1' }, 'default_base_url'],
        [{ ...valid, default_base_url: 'api.openai.com/v1' }, 'default_base_url'],
        [{ ...valid, default_base_url: '/v1' }, 'default_base_url'],
        [{ ...valid, default_base_url: 'not a url' }, 'default_base_url'],
        [{ ...valid, default_base_url: `https://example.com/${'a'.repeat(2048)}` }, 'default_base_url'],
        [{ ...valid, api_key: '' }, 'api_key'],
        [{ ...valid, api_key: 'sk with spaces' }, 'api_key'],
        [{ ...valid, api_key: 'sk-\u00e9t\u00e9' }, 'api_key'],
        [{ ...valid, api_key: 12345 }, 'api_key'],
        [{ ...valid, is_active: 'yes' }, 'is_active'],
        [{ ...valid, is_active: null }, 'is_active'],
        [{ ...valid, sort_order: -1 }, 'sort_order'],
        [{ ...valid, sort_order: 1.5 }, 'sort_order'],
        [{ ...valid, sort_order: 1_000_001 }, 'sort_order'],
        [{ ...valid, sort_order: '3' }, 'sort_order'],
        [{ ...valid, api_key_sealed: 'v1:x' }, 'api_key_sealed'],
        [{ ...valid, has_platform_key: true }, 'has_platform_key'],
      ];
      for (const [body, field] of cases) {
        const response = await app.post('/providers', body, { token: admin });
        expect([field, JSON.stringify(body).slice(0, 80), response.status]).toEqual([field, JSON.stringify(body).slice(0, 80), 400]);
        expectValidation(response, field);
      }
      expectValidation(await app.post('/providers', [valid], { token: admin }), 'body');
      expectError(await app.post('/providers', '{"provider_key":', { token: admin }), 400, 'BAD_REQUEST');
      const { rows } = await app.query('SELECT count(*)::int AS n FROM ai_providers WHERE provider_key = $1', [valid.provider_key]);
      expect(rows[0].n).toBe(0);
    });

    it('accepts the limits: sort_order 0 and 1 000 000, a URL on an address without a domain, no base URL at all', async () => {
      await createProvider({ sort_order: 0, default_base_url: 'http://localhost:8000/v1' });
      await createProvider({ sort_order: 1_000_000, default_base_url: null, api_style: 'anthropic' });
      const plain = await createProvider();
      expect(plain).toMatchObject({ default_base_url: null, has_platform_key: false, api_key_masked: null, sort_order: 0, is_active: true });
    });

    it('updates the fields given; api_key replaces, null removes the key; "" and provider_key are refused', async () => {
      const provider = await createProvider({ api_key: 'sk-first-0123456789abcd', default_base_url: 'https://example.com/v1' });
      expect(provider.api_key_masked).toBe('sk-…abcd');
      const sealedOf = async () => (await app.query('SELECT api_key_sealed, api_key_mask FROM ai_providers WHERE id = $1', [provider.id])).rows[0];
      const firstSealed = (await sealedOf()).api_key_sealed;

      const renamed = await app.put(`/providers/${provider.id}`, { display_name: 'Renamed', sort_order: 7, api_style: 'anthropic' }, { token: admin });
      expect(renamed.status).toBe(200);
      expectProviderShape(renamed.body, {
        id: provider.id, provider_key: provider.provider_key, display_name: 'Renamed', sort_order: 7, api_style: 'anthropic',
        default_base_url: 'https://example.com/v1', has_platform_key: true, api_key_masked: 'sk-…abcd',
      });
      expect((await sealedOf()).api_key_sealed).toBe(firstSealed);
      expect(Date.parse(renamed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(provider.updated_at));

      const rekeyed = await app.put(`/providers/${provider.id}`, { api_key: 'sk-second-0123456789wxyz' }, { token: admin });
      expect(rekeyed.body).toMatchObject({ has_platform_key: true, api_key_masked: 'sk-…wxyz', display_name: 'Renamed' });
      const second = await sealedOf();
      expect(second.api_key_sealed).not.toBe(firstSealed);
      expect(second.api_key_sealed).not.toContain('second');
      expect(new SecretBox(ENCRYPTION_KEY).open(second.api_key_sealed)).toBe('sk-second-0123456789wxyz');

      expectValidation(await app.put(`/providers/${provider.id}`, { api_key: '' }, { token: admin }), 'api_key');
      expectValidation(await app.put(`/providers/${provider.id}`, { provider_key: 'renamed' }, { token: admin }), 'provider_key');
      expectValidation(await app.put(`/providers/${provider.id}`, { display_name: null }, { token: admin }), 'display_name');
      expectValidation(await app.put(`/providers/${provider.id}`, { api_style: null }, { token: admin }), 'api_style');
      expectValidation(await app.put(`/providers/${provider.id}`, { sort_order: -5 }, { token: admin }), 'sort_order');
      expectValidation(await app.put(`/providers/${provider.id}`, { default_base_url: 'javascript:alert(1)' }, { token: admin }), 'default_base_url');
      expect((await sealedOf()).api_key_sealed).toBe(second.api_key_sealed);

      const removed = await app.put(`/providers/${provider.id}`, { api_key: null, default_base_url: null }, { token: admin });
      expect(removed.status).toBe(200);
      expect(removed.body).toMatchObject({ has_platform_key: false, api_key_masked: null, default_base_url: null, display_name: 'Renamed' });
      expect(await sealedOf()).toEqual({ api_key_sealed: null, api_key_mask: null });

      expectError(await app.put(`/providers/${UNKNOWN_ID}`, { display_name: 'Nobody' }, { token: admin }), 404, 'NOT_FOUND');
      expectValidation(await app.put('/providers/nope', { display_name: 'Nobody' }, { token: admin }), 'id');
    });

    it('deletes softly: the provider stays, inactive, with its models; deleting again is harmless', async () => {
      const provider = await createProvider();
      const model = await createModel({ provider: provider.provider_key });
      const deleted = await app.delete(`/providers/${provider.id}`, { token: admin });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ success: true });
      expect((await auditEntryOf(deleted)).action).toBe('ai_provider.delete');
      const after = (await app.get(`/providers/${provider.id}`, { token: user.token })).body;
      expect(after).toMatchObject({ id: provider.id, is_active: false });
      expect((await app.get(`/models?active_only=false&provider=${provider.provider_key}`)).body.models.map((m: any) => m.id)).toEqual([model.id]);
      expect((await app.delete(`/providers/${provider.id}`, { token: admin })).status).toBe(200);
      // An inactive provider comes back with PUT.
      expect((await app.put(`/providers/${provider.id}`, { is_active: true }, { token: admin })).body.is_active).toBe(true);
      expectError(await app.delete(`/providers/${UNKNOWN_ID}`, { token: admin }), 404, 'NOT_FOUND');
      expectValidation(await app.delete('/providers/123', { token: admin }), 'id');
    });
  });

  describe('models', () => {
    it('lists the seeded, active catalog to anyone, by sort_order, with numeric prices', async () => {
      const response = await app.get('/models?provider=openai');
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['models', 'pagination']);
      expect(response.body.models.map((m: any) => m.model_name)).toEqual(['gpt-4o', 'gpt-4o-mini', 'o3-mini']);
      for (const model of response.body.models) expectModelShape(model, { provider: 'openai', model_type: 'chat', is_active: true });
      expect(response.body.models[0]).toMatchObject({ id: '01938000-0000-7000-8001-000000000001', max_tokens: 128000, input_price_per_1k: 0.0025, output_price_per_1k: 0.01, supports_vision: true });
      expect(response.body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });

      const all = (await app.get('/models?limit=100')).body.models;
      const byProvider = (key: string) => all.filter((m: any) => m.provider === key).map((m: any) => m.model_name);
      expect(byProvider('anthropic').length).toBeGreaterThanOrEqual(2);
      expect(byProvider('qwen')).toEqual(expect.arrayContaining(['qwen-plus', 'qwen-max', 'qwen2.5-coder-32b-instruct']));
      expect(byProvider('deepseek')).toEqual(['deepseek-chat', 'deepseek-reasoner']);
      expect(byProvider('siliconflow').length).toBeGreaterThanOrEqual(1);
      expect(all.find((m: any) => m.provider === 'ollama' && m.model_name === 'llama3.1')).toMatchObject({ input_price_per_1k: 0, output_price_per_1k: 0 });
      for (const model of all) expect(model.max_tokens).toBeGreaterThan(0);
    });

    it('creates a model with defaults; prices come back as numbers', async () => {
      const name = unique('gpt');
      const response = await app.post('/models', { model_name: name, display_name: 'GPT X', provider: 'openai', max_tokens: 8192, input_price_per_1k: 0.000123, output_price_per_1k: 12.5 }, { token: admin });
      expect(response.status).toBe(201);
      expectModelShape(response.body, {
        model_name: name, display_name: 'GPT X', provider: 'openai', model_type: 'chat', max_tokens: 8192, supports_streaming: true,
        supports_function_calling: false, supports_vision: false, input_price_per_1k: 0.000123, output_price_per_1k: 12.5, description: '', is_active: true, sort_order: 0,
      });
      expect((await app.get(`/models?provider=openai&limit=100`)).body.models.find((m: any) => m.id === response.body.id)).toEqual(response.body);
      const { rows } = await app.query('SELECT input_price_per_1k::text AS input FROM ai_models WHERE id = $1', [response.body.id]);
      expect(rows[0].input).toBe('0.000123');
      expect((await auditEntryOf(response))).toMatchObject({ action: 'ai_model.create', resource_id: response.body.id, status_code: 201 });
    });

    it('takes names as providers spell them, and the same name under another provider', async () => {
      await createModel({ model_name: 'Qwen/Qwen2.5-72B-Instruct', provider: 'siliconflow' });
      await createModel({ model_name: 'qwen2.5:72b', provider: 'ollama' });
      await createModel({ model_name: 'gpt-4o', provider: 'custom', max_tokens: 10_000_000, input_price_per_1k: 999_999, sort_order: 1_000_000 });
    });

    it('answers 400 on the field provider when no provider has that key', async () => {
      const response = await app.post('/models', { model_name: 'x', display_name: 'X', provider: 'nobody', max_tokens: 10 }, { token: admin });
      expectValidation(response, 'provider');
      expect(Object.keys(response.body.error.details.fields)).toEqual(['provider']);
    });

    it('answers 409 for a model name the provider already has', async () => {
      const response = await app.post('/models', { model_name: 'gpt-4o', display_name: 'Again', provider: 'openai', max_tokens: 10 }, { token: admin });
      expectError(response, 409, 'CONFLICT');
      expect(response.body.error.details).toEqual({ field: 'model_name' });
    });

    it('refuses bad input with 400, naming each field', async () => {
      const valid = { model_name: unique('m'), display_name: 'Ok', provider: 'custom', max_tokens: 100 };
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...valid, model_name: undefined }, 'model_name'],
        [{ ...valid, model_name: '' }, 'model_name'],
        [{ ...valid, model_name: ' gpt' }, 'model_name'],
        [{ ...valid, model_name: 'gpt 4' }, 'model_name'],
        [{ ...valid, model_name: 'x'.repeat(201) }, 'model_name'],
        [{ ...valid, display_name: '' }, 'display_name'],
        [{ ...valid, display_name: 'tab\there' }, 'display_name'],
        [{ ...valid, provider: 'OpenAI' }, 'provider'],
        [{ ...valid, provider: undefined }, 'provider'],
        [{ ...valid, model_type: 'image' }, 'model_type'],
        [{ ...valid, model_type: null }, 'model_type'],
        [{ ...valid, max_tokens: 0 }, 'max_tokens'],
        [{ ...valid, max_tokens: 10_000_001 }, 'max_tokens'],
        [{ ...valid, max_tokens: 1.5 }, 'max_tokens'],
        [{ ...valid, max_tokens: '100' }, 'max_tokens'],
        [{ ...valid, max_tokens: undefined }, 'max_tokens'],
        [{ ...valid, input_price_per_1k: -0.01 }, 'input_price_per_1k'],
        [{ ...valid, input_price_per_1k: 0.0000001 }, 'input_price_per_1k'],
        [{ ...valid, input_price_per_1k: 0.1234567 }, 'input_price_per_1k'],
        [{ ...valid, output_price_per_1k: 1e-7 }, 'output_price_per_1k'],
        [{ ...valid, output_price_per_1k: '0.01' }, 'output_price_per_1k'],
        [{ ...valid, output_price_per_1k: 1_000_000 }, 'output_price_per_1k'],
        [{ ...valid, output_price_per_1k: null }, 'output_price_per_1k'],
        [{ ...valid, supports_streaming: 'true' }, 'supports_streaming'],
        [{ ...valid, supports_function_calling: 1 }, 'supports_function_calling'],
        [{ ...valid, supports_vision: null }, 'supports_vision'],
        [{ ...valid, description: 'x'.repeat(2001) }, 'description'],
        [{ ...valid, description: 'bell\u0007' }, 'description'],
        [{ ...valid, is_active: 'false' }, 'is_active'],
        [{ ...valid, sort_order: -1 }, 'sort_order'],
        [{ ...valid, sort_order: 1_000_001 }, 'sort_order'],
        [{ ...valid, id: UNKNOWN_ID }, 'id'],
      ];
      for (const [body, field] of cases) {
        const response = await app.post('/models', body, { token: admin });
        expect([field, JSON.stringify(body).slice(0, 80), response.status]).toEqual([field, JSON.stringify(body).slice(0, 80), 400]);
        expectValidation(response, field);
      }
      const { rows } = await app.query('SELECT count(*)::int AS n FROM ai_models WHERE model_name = $1', [valid.model_name]);
      expect(rows[0].n).toBe(0);
    });

    it('updates the fields given; a taken name is 409, an unknown provider 400, an unknown id 404', async () => {
      const model = await createModel({ description: 'Before' });
      const updated = await app.put(
        `/models/${model.id}`,
        { display_name: 'After', input_price_per_1k: 0.5, output_price_per_1k: 0.000001, max_tokens: 32768, supports_vision: true, model_type: 'embedding', description: 'Line one\nline two' },
        { token: admin },
      );
      expect(updated.status).toBe(200);
      expectModelShape(updated.body, {
        id: model.id, model_name: model.model_name, display_name: 'After', input_price_per_1k: 0.5, output_price_per_1k: 0.000001, max_tokens: 32768,
        supports_vision: true, model_type: 'embedding', description: 'Line one\nline two', provider: 'custom',
      });

      const moved = await app.put(`/models/${model.id}`, { provider: 'ollama', model_name: unique('moved') }, { token: admin });
      expect(moved.status).toBe(200);
      expect(moved.body.provider).toBe('ollama');

      const taken = await app.put(`/models/${model.id}`, { model_name: 'llama3.1' }, { token: admin });
      expectError(taken, 409, 'CONFLICT');
      expect(taken.body.error.details).toEqual({ field: 'model_name' });
      expectError(await app.put(`/models/${model.id}`, { provider: 'openai', model_name: 'gpt-4o' }, { token: admin }), 409, 'CONFLICT');
      expectValidation(await app.put(`/models/${model.id}`, { provider: 'nobody' }, { token: admin }), 'provider');
      expectValidation(await app.put(`/models/${model.id}`, { max_tokens: null }, { token: admin }), 'max_tokens');
      expectValidation(await app.put(`/models/${model.id}`, { input_price_per_1k: 1.0000001 }, { token: admin }), 'input_price_per_1k');
      expectValidation(await app.put(`/models/${model.id}`, { is_active: null }, { token: admin }), 'is_active');
      // None of the refused changes landed.
      expect((await app.get('/models?provider=ollama&active_only=false&limit=100')).body.models.find((m: any) => m.id === model.id)).toEqual(moved.body);

      expectError(await app.put(`/models/${UNKNOWN_ID}`, { display_name: 'Nobody' }, { token: admin }), 404, 'NOT_FOUND');
      expectValidation(await app.put('/models/xyz', { display_name: 'Nobody' }, { token: admin }), 'id');
    });

    it('deletes softly: hidden from the default list, still listed with active_only=false', async () => {
      const model = await createModel({ provider: 'deepseek' });
      const deleted = await app.delete(`/models/${model.id}`, { token: admin });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toEqual({ success: true });
      expect((await app.get('/models?provider=deepseek&limit=100')).body.models.map((m: any) => m.id)).not.toContain(model.id);
      const inactive = (await app.get('/models?provider=deepseek&active_only=false&limit=100')).body.models.find((m: any) => m.id === model.id);
      expect(inactive).toMatchObject({ id: model.id, is_active: false });
      const { rows } = await app.query('SELECT is_active FROM ai_models WHERE id = $1', [model.id]);
      expect(rows).toEqual([{ is_active: false }]);
      expect((await app.delete(`/models/${model.id}`, { token: admin })).status).toBe(200);
      expectError(await app.delete(`/models/${UNKNOWN_ID}`, { token: admin }), 404, 'NOT_FOUND');
    });

    it('toggles a model back and forth, answering it', async () => {
      const model = await createModel();
      const off = await app.post(`/models/${model.id}/toggle`, undefined, { token: admin });
      expect(off.status).toBe(200);
      expectModelShape(off.body, { id: model.id, is_active: false });
      expect((await auditEntryOf(off))).toMatchObject({ action: 'ai_model.toggle', resource_id: model.id, status_code: 200 });
      const on = await app.post(`/models/${model.id}/toggle`, undefined, { token: admin });
      expect(on.body).toMatchObject({ id: model.id, is_active: true });
      // Concurrent toggles each flip it: an even number leaves it as it was.
      await Promise.all(Array.from({ length: 6 }, () => app.post(`/models/${model.id}/toggle`, undefined, { token: admin })));
      expect((await app.query('SELECT is_active FROM ai_models WHERE id = $1', [model.id])).rows[0].is_active).toBe(true);
      expectError(await app.post(`/models/${UNKNOWN_ID}/toggle`, undefined, { token: admin }), 404, 'NOT_FOUND');
      expectValidation(await app.post('/models/zzz/toggle', undefined, { token: admin }), 'id');
    });

    describe('filters and order', () => {
      let provider: any;
      let alpha: any;
      let zeta: any;
      let mid: any;
      let embedding: any;
      let inactive: any;

      beforeAll(async () => {
        provider = await createProvider();
        const key = provider.provider_key;
        zeta = await createModel({ provider: key, model_name: 'zeta', sort_order: 5 });
        alpha = await createModel({ provider: key, model_name: 'alpha', sort_order: 5 });
        mid = await createModel({ provider: key, model_name: 'mid', sort_order: 1 });
        embedding = await createModel({ provider: key, model_name: 'embed', sort_order: 9, model_type: 'embedding' });
        inactive = await createModel({ provider: key, model_name: 'old', sort_order: 0, is_active: false });
      });

      const names = (response: ApiResponse) => response.body.models.map((m: any) => m.model_name);

      it('orders by sort_order, then model name; active only unless active_only=false', async () => {
        const key = provider.provider_key;
        expect(names(await app.get(`/models?provider=${key}`))).toEqual(['mid', 'alpha', 'zeta', 'embed']);
        expect(names(await app.get(`/models?provider=${key}&active_only=true`))).toEqual(['mid', 'alpha', 'zeta', 'embed']);
        expect(names(await app.get(`/models?provider=${key}&active_only=false`))).toEqual(['old', 'mid', 'alpha', 'zeta', 'embed']);
        expect(inactive.is_active).toBe(false);
      });

      it('filters by type, combined with the others', async () => {
        const key = provider.provider_key;
        expect(names(await app.get(`/models?provider=${key}&type=embedding`))).toEqual(['embed']);
        expect(names(await app.get(`/models?provider=${key}&type=completion`))).toEqual([]);
        const embeddings = (await app.get('/models?type=embedding&limit=100')).body.models;
        expect(embeddings.map((m: any) => m.id)).toContain(embedding.id);
        for (const model of embeddings) expect(model.model_type).toBe('embedding');
        expect(names(await app.get('/models?provider=nobody'))).toEqual([]);
      });

      it('pages through the list without overlap', async () => {
        const key = provider.provider_key;
        const first = await app.get(`/models?provider=${key}&active_only=false&limit=2&page=1`);
        const second = await app.get(`/models?provider=${key}&active_only=false&limit=2&page=2`);
        const third = await app.get(`/models?provider=${key}&active_only=false&limit=2&page=3`);
        expect(first.body.pagination).toEqual({ total: 5, page: 1, limit: 2, pages: 3 });
        expect([...names(first), ...names(second), ...names(third)]).toEqual(['old', 'mid', 'alpha', 'zeta', 'embed']);
        expect(mid.sort_order).toBe(1);
        expect([alpha.sort_order, zeta.sort_order]).toEqual([5, 5]);
      });

      it('refuses bad filters with 400', async () => {
        expectValidation(await app.get('/models?active_only=yes'), 'active_only');
        expectValidation(await app.get('/models?type=image'), 'type');
        expectValidation(await app.get('/models?provider=Bad%20Key'), 'provider');
        expectValidation(await app.get('/models?limit=101'), 'limit');
        expectValidation(await app.get('/models?page=0'), 'page');
        expectValidation(await app.get('/models?sort=name'), 'sort');
      });
    });

    describe('POST /models/batch-update-order', () => {
      const ordersOf = async (ids: string[]) =>
        Object.fromEntries((await app.query('SELECT id::text, sort_order FROM ai_models WHERE id = ANY($1::uuid[])', [ids])).rows.map((r: any) => [r.id, r.sort_order]));

      it('sets every sort_order given, in one go', async () => {
        const models = [await createModel({ sort_order: 1 }), await createModel({ sort_order: 2 }), await createModel({ sort_order: 3 })];
        const ids = models.map((m) => m.id);
        const response = await app.post('/models/batch-update-order', { items: [{ id: ids[0], sort_order: 30 }, { id: ids[1].toUpperCase(), sort_order: 20 }, { id: ids[2], sort_order: 0 }] }, { token: admin });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ updated: 3 });
        expect(await ordersOf(ids)).toEqual({ [ids[0]]: 30, [ids[1]]: 20, [ids[2]]: 0 });
        const entry = await auditEntryOf(response);
        expect(entry).toMatchObject({ action: 'ai_model.reorder', status_code: 200 });
        expect(entry.metadata.item_count).toBe(3);
      });

      it('changes nothing when one id is unknown: 404 naming it', async () => {
        const models = [await createModel({ sort_order: 11 }), await createModel({ sort_order: 12 })];
        const ids = models.map((m) => m.id);
        const response = await app.post('/models/batch-update-order', { items: [{ id: ids[0], sort_order: 500 }, { id: UNKNOWN_ID, sort_order: 1 }, { id: ids[1], sort_order: 600 }] }, { token: admin });
        expectError(response, 404, 'NOT_FOUND');
        expect(response.body.error.details).toEqual({ ids: [UNKNOWN_ID] });
        expect(await ordersOf(ids)).toEqual({ [ids[0]]: 11, [ids[1]]: 12 });
        expect((await auditEntryOf(response)).status_code).toBe(404);
      });

      it('refuses bad input with 400 and changes nothing', async () => {
        const model = await createModel({ sort_order: 42 });
        const id = model.id;
        const cases: Array<[unknown, string]> = [
          [{}, 'items'],
          [{ items: [] }, 'items'],
          [{ items: null }, 'items'],
          [{ items: 'all' }, 'items'],
          [{ items: [1, 2] }, 'items'],
          [{ items: [[{ id, sort_order: 1 }]] }, 'items'],
          [{ items: Array.from({ length: 501 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, sort_order: i })) }, 'items'],
          [{ items: [{ id, sort_order: 1 }, { id, sort_order: 2 }] }, 'items'],
          [{ items: [{ id, sort_order: 1 }, { id: id.toUpperCase(), sort_order: 2 }] }, 'items'],
          [{ items: [{ id: 'not-a-uuid', sort_order: 1 }] }, 'items.0.id'],
          [{ items: [{ sort_order: 1 }] }, 'items.0.id'],
          [{ items: [{ id, sort_order: -1 }] }, 'items.0.sort_order'],
          [{ items: [{ id, sort_order: 1.5 }] }, 'items.0.sort_order'],
          [{ items: [{ id, sort_order: 1_000_001 }] }, 'items.0.sort_order'],
          [{ items: [{ id, sort_order: '1' }] }, 'items.0.sort_order'],
          [{ items: [{ id }] }, 'items.0.sort_order'],
          [{ items: [{ id, sort_order: 1, extra: true }] }, 'items.0.extra'],
        ];
        for (const [body, field] of cases) {
          const response = await app.post('/models/batch-update-order', body, { token: admin });
          expect([field, response.status]).toEqual([field, 400]);
          expectValidation(response, field);
        }
        expect(await ordersOf([id])).toEqual({ [id]: 42 });
      });

      it('takes 500 items', async () => {
        const existing = (await app.query('SELECT id::text FROM ai_models ORDER BY id LIMIT 1')).rows[0].id;
        const items = [{ id: existing, sort_order: 77 }, ...Array.from({ length: 499 }, (_, i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, sort_order: i }))];
        const response = await app.post('/models/batch-update-order', { items }, { token: admin });
        // Valid input, so past the checks: the unknown ids are what refuse it.
        expectError(response, 404, 'NOT_FOUND');
        expect(response.body.error.details.ids).toHaveLength(499);
        expect((await ordersOf([existing]))[existing]).not.toBe(77);
      });
    });
  });

  describe('GetProviderQuery and GetModelQuery (for other contexts)', () => {
    let queries: QueryBus;
    beforeAll(() => {
      queries = app.running.app.get(QueryBus);
    });

    it('answers a provider by key, active or not, without its key; null for none', async () => {
      expect(await queries.execute(new GetProviderQuery('anthropic'))).toEqual({
        id: expect.stringMatching(UUID),
        provider_key: 'anthropic',
        display_name: 'Anthropic',
        default_base_url: 'https://api.anthropic.com',
        api_style: 'anthropic',
        is_active: true,
      });
      const provider = await createProvider({ api_key: 'sk-hidden-0123456789' });
      await app.delete(`/providers/${provider.id}`, { token: admin });
      const info = await queries.execute(new GetProviderQuery(provider.provider_key));
      expect(info).toMatchObject({ id: provider.id, is_active: false });
      expect(JSON.stringify(info)).not.toContain('hidden');
      expect(await queries.execute(new GetProviderQuery('nobody'))).toBeNull();
      expect(await queries.execute(new GetProviderQuery('bad\u0000key'))).toBeNull();
      expect(await queries.execute(new GetProviderQuery(''))).toBeNull();
    });

    it('answers a model by name, of a provider or of any, with numeric prices; null for none', async () => {
      const model = await queries.execute(new GetModelQuery('gpt-4o-mini', 'openai'));
      expect(model).toEqual({
        id: expect.stringMatching(UUID),
        model_name: 'gpt-4o-mini',
        display_name: 'GPT-4o mini',
        provider: 'openai',
        model_type: 'chat',
        max_tokens: 128000,
        supports_streaming: true,
        supports_function_calling: true,
        supports_vision: true,
        input_price_per_1k: 0.00015,
        output_price_per_1k: 0.0006,
        description: expect.any(String),
        is_active: true,
      });
      expect((await queries.execute(new GetModelQuery('deepseek-chat')))?.provider).toBe('deepseek');
      expect(await queries.execute(new GetModelQuery('deepseek-chat', 'openai'))).toBeNull();
      expect(await queries.execute(new GetModelQuery('no-such-model'))).toBeNull();
      expect(await queries.execute(new GetModelQuery('bad\u0000name'))).toBeNull();
      expect(await queries.execute(new GetModelQuery('gpt-4o', 'Bad Key'))).toBeNull();

      // Without a provider, an active model comes before an inactive one of the same name.
      const name = unique('shared');
      const inactive = await createModel({ model_name: name, provider: 'openai', sort_order: 0, is_active: false });
      const active = await createModel({ model_name: name, provider: 'deepseek', sort_order: 50 });
      expect((await queries.execute(new GetModelQuery(name)))?.id).toBe(active.id);
      expect((await queries.execute(new GetModelQuery(name, 'openai')))?.id).toBe(inactive.id);
    });
  });
});
