import OpenAI from 'openai';
import { serveCustomModels } from '../support/ai-catalog-setup';
import { AiUpstreamStandIn } from '../support/ai-upstream';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Per-API-key AI limits set by the key's owner: a models allow-list (another
 * model: 403) and a monthly token budget (spent: 429 QUOTA_EXCEEDED, scope
 * api_key), on /ai/chat, its stream, /ai/generate-code and the gateway, whose
 * /v1/models lists only the allowed models. Usage is recorded with the key it
 * was made with, and GET /ai/usage reads the daily roll-up the database keeps.
 */

const PLATFORM_KEY = 'sk-platform-keylimits-0123456789abcdef';
const ALLOWED = 'kl-allowed';
const OTHER = 'kl-other';

type User = Awaited<ReturnType<TestApp['registerUser']>>;

describe('Per-API-key AI limits (ai_token_budget, ai_models)', () => {
  let app: TestApp;
  let standIn: AiUpstreamStandIn;
  let admin: string;
  let user: User;

  beforeAll(async () => {
    standIn = await AiUpstreamStandIn.start();
    app = await TestApp.start();
    admin = await app.adminToken();
    await serveCustomModels(app, admin, standIn, PLATFORM_KEY, [ALLOWED, OTHER].map((name) => ({ model_name: name, max_tokens: 100_000 })));
    user = await app.registerUser();
    // Enterprise: several keys, no plan AI limits — only the keys' own limits are at work.
    const upgraded = await app.put(`/admin/users/${user.id}`, { level: 'enterprise' }, { token: admin });
    if (upgraded.status !== 200) throw new Error(`upgrade failed: ${upgraded.status} ${JSON.stringify(upgraded.body)}`);
  });
  afterAll(async () => {
    await app?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  async function createKey(body: Record<string, unknown>, token = user.token): Promise<{ id: string; key: string; body: any }> {
    const response = await app.post('/api-keys', { name: 'ai', scopes: ['ai:chat'], ...body }, { token });
    if (response.status !== 201) throw new Error(`key creation failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { id: response.body.id, key: response.body.key, body: response.body };
  }

  const chat = (key: string, model: string): Promise<ApiResponse> => app.post('/ai/chat', { model, message: 'hi' }, { headers: { 'x-api-key': key } });

  /** ai_usage rows of the user made with a key, `at` an SQL timestamptz expression. */
  async function insertUsage(apiKeyId: string | null, rows: number, tokensEach: number, at = 'now()'): Promise<void> {
    await app.query(
      `INSERT INTO ai_usage (id, user_id, api_key_id, conversation_id, model, provider, prompt_tokens, completion_tokens, cost, created_at)
       SELECT gen_random_uuid(), $1, $2, NULL, $3, 'custom', $4, 0, 0.001, ${at} FROM generate_series(1, $5)`,
      [user.id, apiKeyId, ALLOWED, tokensEach, rows],
    );
  }

  it('creates, shows, changes and clears a key\'s limits; validates them; another user\'s key is 404', async () => {
    const { id, body } = await createKey({ ai_token_budget: 5000, ai_models: [ALLOWED, ALLOWED, OTHER] });
    expect(body).toMatchObject({ ai_token_budget: 5000, ai_models: [ALLOWED, OTHER] });
    const plain = await createKey({});
    expect(plain.body).toMatchObject({ ai_token_budget: null, ai_models: null });

    let changed = await app.patch(`/api-keys/${id}`, { ai_token_budget: 7000 }, { token: user.token });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ name: 'ai', ai_token_budget: 7000, ai_models: [ALLOWED, OTHER] });
    changed = await app.patch(`/api-keys/${id}`, { name: 'renamed', ai_models: null }, { token: user.token });
    expect(changed.body).toMatchObject({ name: 'renamed', ai_token_budget: 7000, ai_models: null });
    changed = await app.patch(`/api-keys/${id}`, { ai_token_budget: null }, { token: user.token });
    expect(changed.body).toMatchObject({ ai_token_budget: null });
    const listed = await app.get('/api-keys', { token: user.token });
    expect(listed.body.api_keys.find((key: { id: string }) => key.id === id)).toMatchObject({ name: 'renamed', ai_token_budget: null, ai_models: null });

    for (const [bad, field] of [
      [{ ai_token_budget: 0 }, 'ai_token_budget'],
      [{ ai_token_budget: -5 }, 'ai_token_budget'],
      [{ ai_token_budget: 1.5 }, 'ai_token_budget'],
      [{ ai_token_budget: '100' }, 'ai_token_budget'],
      [{ ai_token_budget: 1e13 }, 'ai_token_budget'],
      [{ ai_models: 'gpt-4o' }, 'ai_models'],
      [{ ai_models: [''] }, 'ai_models'],
      [{ ai_models: [42] }, 'ai_models'],
      [{ ai_models: ['a\nb'] }, 'ai_models'],
      [{ ai_models: Array.from({ length: 101 }, (_, i) => `m${i}`) }, 'ai_models'],
      [{ name: '' }, 'name'],
      [{ name: null }, 'name'],
    ] as const) {
      expectValidation(await app.patch(`/api-keys/${id}`, bad, { token: user.token }), field);
    }
    expectValidation(await app.post('/api-keys', { name: 'x', ai_token_budget: 0 }, { token: user.token }), 'ai_token_budget');

    const stranger = await app.registerUser();
    expectError(await app.patch(`/api-keys/${id}`, { ai_token_budget: 1 }, { token: stranger.token }), 404, 'NOT_FOUND');
    expectError(await app.patch('/api-keys/00000000-0000-4000-8000-000000000000', { name: 'x' }, { token: user.token }), 404, 'NOT_FOUND');
    expect((await app.patch(`/api-keys/${id}`, { name: 'x' })).status).toBe(401);
    // An admin may change anyone's key.
    expect((await app.patch(`/api-keys/${id}`, { ai_token_budget: 9 }, { token: admin })).body.ai_token_budget).toBe(9);
  });

  it('refuses a model outside the allow-list with 403 on chat, stream, generate-code and the gateway, without calling the model', async () => {
    const { key } = await createKey({ ai_models: [ALLOWED] });
    const refused = await chat(key, OTHER);
    expectError(refused, 403, 'FORBIDDEN');
    expect(refused.body.error.message).toBe(`This API key may not use the model '${OTHER}'`);
    expect(refused.body.error.details).toEqual({ model: OTHER, allowed_models: [ALLOWED] });
    expectError(await app.post('/ai/chat/stream', { model: OTHER, message: 'hi' }, { headers: { 'x-api-key': key } }), 403, 'FORBIDDEN');
    expectError(await app.post('/ai/generate-code', { model: OTHER, prompt: 'hi' }, { headers: { 'x-api-key': key } }), 403, 'FORBIDDEN');
    const client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: key, maxRetries: 0 });
    const error = await client.chat.completions.create({ model: OTHER, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect((error as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toContain(`may not use the model '${OTHER}'`);
    expect(standIn.requests).toHaveLength(0);

    expect((await chat(key, ALLOWED)).status).toBe(200);
    // The gateway's model list shows what the key may call; a key without a list sees every chat model.
    const listed = (await client.models.list()).data.map((model) => model.id);
    expect(listed).toEqual([ALLOWED]);
    const open = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: (await createKey({})).key, maxRetries: 0 });
    expect((await open.models.list()).data.map((model) => model.id)).toEqual(expect.arrayContaining([ALLOWED, OTHER]));
    // The user's session is not bound by a key's list.
    expect((await app.post('/ai/chat', { model: OTHER, message: 'hi' }, { token: user.token })).status).toBe(200);
  });

  it('refuses calls with a key whose monthly budget is spent (429, scope api_key): its own usage only, this month only', async () => {
    const { id, key } = await createKey({ ai_token_budget: 1000 });
    const other = await createKey({});
    // Last month's tokens, the session's and another key's do not count.
    await insertUsage(id, 5, 1000, "date_trunc('month', now()) - interval '1 day'");
    await insertUsage(null, 5, 1000);
    await insertUsage(other.id, 5, 1000);
    standIn.configure({ promptTokens: 600, completionTokens: 300 });
    expect((await chat(key, ALLOWED)).status).toBe(200);
    // 900 of 1000 spent: the next call is answered (and crosses the budget), the one after is refused.
    expect((await chat(key, ALLOWED)).status).toBe(200);
    const calls = standIn.requests.length;
    const refused = await chat(key, ALLOWED);
    expectError(refused, 429, 'QUOTA_EXCEEDED');
    expect(refused.body.error.message).toBe("This API key's budget of 1000 AI tokens per month is spent");
    expect(refused.body.error.details).toEqual({ limit: 1000, used: 1800, window: 'month', scope: 'api_key' });
    expectError(await app.post('/ai/chat/stream', { model: ALLOWED, message: 'hi' }, { headers: { 'x-api-key': key } }), 429, 'QUOTA_EXCEEDED');
    const gateway = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: ALLOWED, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(gateway.status).toBe(429);
    expect(((await gateway.json()) as any).error).toMatchObject({ type: 'rate_limit_error', code: 'insufficient_quota' });
    expect(standIn.requests).toHaveLength(calls);
    // Other keys and the session go on; raising the budget lets the key go on.
    expect((await chat(other.key, ALLOWED)).status).toBe(200);
    expect((await app.post('/ai/chat', { model: ALLOWED, message: 'hi' }, { token: user.token })).status).toBe(200);
    await app.patch(`/api-keys/${id}`, { ai_token_budget: 10_000 }, { token: user.token });
    expect((await chat(key, ALLOWED)).status).toBe(200);
  });

  it('records each call with its key, in ai_usage and the daily roll-up; GET /ai/usage answers from the roll-up', async () => {
    const fresh = await app.registerUser();
    const key = (await createKey({}, fresh.token)).key;
    const keyId = (await app.get('/api-keys', { token: fresh.token })).body.api_keys[0].id;
    standIn.configure({ promptTokens: 10, completionTokens: 5 });
    expect((await chat(key, ALLOWED)).status).toBe(200);
    expect((await app.post('/ai/chat', { model: ALLOWED, message: 'hi' }, { token: fresh.token })).status).toBe(200);
    const rows = (await app.query('SELECT api_key_id FROM ai_usage WHERE user_id = $1 ORDER BY created_at', [fresh.id])).rows;
    expect(rows.map((row: { api_key_id: string | null }) => row.api_key_id)).toEqual([keyId, null]);
    const daily = (await app.query('SELECT api_key_id, requests, prompt_tokens::int, completion_tokens::int FROM ai_usage_daily WHERE user_id = $1 ORDER BY api_key_id NULLS LAST', [fresh.id])).rows;
    expect(daily).toEqual([
      { api_key_id: keyId, requests: 1, prompt_tokens: 10, completion_tokens: 5 },
      { api_key_id: null, requests: 1, prompt_tokens: 10, completion_tokens: 5 },
    ]);

    // A bulk insert of many days and models: the roll-up equals the rows' own aggregates.
    await app.query(
      `INSERT INTO ai_usage (id, user_id, api_key_id, conversation_id, model, provider, prompt_tokens, completion_tokens, cost, created_at)
       SELECT gen_random_uuid(), $1, CASE WHEN i % 3 = 0 THEN $2::uuid END, NULL, 'm' || (i % 4), 'custom', i % 50, i % 7, (i % 11) / 1000.0,
              now() - (i % 40) * interval '1 day'
         FROM generate_series(1, 3000) AS i`,
      [fresh.id, keyId],
    );
    const direct = (
      await app.query(
        `SELECT count(*)::int AS requests, sum(prompt_tokens)::int AS prompt, sum(completion_tokens)::int AS completion, sum(cost)::text AS cost
           FROM ai_usage WHERE user_id = $1`,
        [fresh.id],
      )
    ).rows[0];
    const usage = await app.get('/ai/usage', { token: fresh.token });
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toEqual({ requests: direct.requests, prompt_tokens: direct.prompt, completion_tokens: direct.completion, cost: Number(direct.cost) });
    expect(usage.body.by_model.reduce((sum: number, row: { requests: number }) => sum + row.requests, 0)).toBe(direct.requests);
    const lastThirty = (
      await app.query(
        `SELECT count(*)::int AS n FROM ai_usage WHERE user_id = $1 AND (created_at AT TIME ZONE 'UTC')::date > (now() AT TIME ZONE 'UTC')::date - 30`,
        [fresh.id],
      )
    ).rows[0].n;
    expect(usage.body.by_day).toHaveLength(30);
    expect(usage.body.by_day.reduce((sum: number, row: { requests: number }) => sum + row.requests, 0)).toBe(lastThirty);
    // Each of the two chats started a conversation of two messages.
    expect(usage.body.conversations).toBe(2);
    expect(usage.body.messages).toBe(4);
  });
});
