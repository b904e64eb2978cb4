import { serveCustomModels } from '../support/ai-catalog-setup';
import { AiUpstreamStandIn } from '../support/ai-upstream';
import { expectError } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Per-plan AI limits (plans' ai_requests_per_day and ai_tokens_per_month),
 * checked before every upstream call: /ai/chat, /ai/chat/stream,
 * /ai/generate-code and the OpenAI-compatible gateway. Counted over ai_usage:
 * requests since the start of the UTC day, tokens since the start of the UTC
 * month. Over a limit: 429 QUOTA_EXCEEDED with limit, used and window; admins
 * are exempt; null is unlimited.
 */

const PLATFORM_KEY = 'sk-platform-limits-0123456789abcdef';
const MODEL = 'limits-chat';
const SEEDED_AI_LIMITS: Record<string, { ai_requests_per_day: number | null; ai_tokens_per_month: number | null }> = {
  free: { ai_requests_per_day: 50, ai_tokens_per_month: 200_000 },
  basic: { ai_requests_per_day: 200, ai_tokens_per_month: 1_000_000 },
  premium: { ai_requests_per_day: 1000, ai_tokens_per_month: 5_000_000 },
  enterprise: { ai_requests_per_day: null, ai_tokens_per_month: null },
};

type User = Awaited<ReturnType<TestApp['registerUser']>>;

describe('Per-plan AI limits (ai_requests_per_day, ai_tokens_per_month)', () => {
  let app: TestApp;
  let standIn: AiUpstreamStandIn;
  let admin: string;

  beforeAll(async () => {
    standIn = await AiUpstreamStandIn.start();
    app = await TestApp.start();
    admin = await app.adminToken();
    await serveCustomModels(app, admin, standIn, PLATFORM_KEY, [{ model_name: MODEL, max_tokens: 100_000 }]);
  });
  afterAll(async () => {
    await app?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());
  afterEach(async () => {
    for (const [id, limits] of Object.entries(SEEDED_AI_LIMITS)) await setPlan(id, limits);
  });

  async function setPlan(id: string, limits: Record<string, number | null>): Promise<void> {
    const response = await app.put(`/admin/plans/${id}`, limits, { token: admin });
    if (response.status !== 200) throw new Error(`plan update failed: ${response.status} ${JSON.stringify(response.body)}`);
  }

  const chat = (token: string): Promise<ApiResponse> => app.post('/ai/chat', { model: MODEL, message: 'hi' }, { token });

  /** ai_usage rows of a user, `at` an SQL timestamptz expression. */
  async function insertUsage(userId: string, rows: number, tokensEach: number, at = 'now()'): Promise<void> {
    await app.query(
      `INSERT INTO ai_usage (id, user_id, conversation_id, model, provider, prompt_tokens, completion_tokens, cost, created_at)
       SELECT gen_random_uuid(), $1, NULL, $2, 'custom', $3, 0, 0, ${at} FROM generate_series(1, $4)`,
      [userId, MODEL, tokensEach, rows],
    );
  }

  function expectQuota(response: ApiResponse, details: { limit: number; used: number; window: 'day' | 'month'; scope: 'plan' }, message: string): void {
    expectError(response, 429, 'QUOTA_EXCEEDED');
    expect(response.body.error.message).toBe(message);
    expect(response.body.error.details).toEqual(details);
  }

  it('refuses the request past ai_requests_per_day with 429 QUOTA_EXCEEDED, on chat, its stream and generate-code, without calling the model', async () => {
    await setPlan('free', { ai_requests_per_day: 2 });
    const user = await app.registerUser();
    // Yesterday's requests (UTC) do not count towards today's.
    await insertUsage(user.id, 5, 1, `date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 second'`);
    expect((await chat(user.token)).status).toBe(200);
    expect((await chat(user.token)).status).toBe(200);
    expect(standIn.requests).toHaveLength(2);

    const details = { limit: 2, used: 2, window: 'day' as const, scope: 'plan' as const };
    const message = 'The Free plan allows 2 AI requests per day';
    expectQuota(await chat(user.token), details, message);
    expectQuota(await app.post('/ai/chat/stream', { model: MODEL, message: 'hi' }, { token: user.token }), details, message);
    expectQuota(await app.post('/ai/generate-code', { model: MODEL, prompt: 'print 1' }, { token: user.token }), details, message);
    expect(standIn.requests).toHaveLength(2);

    // Raising the limit lets the user through at once.
    await setPlan('free', { ai_requests_per_day: 3 });
    expect((await chat(user.token)).status).toBe(200);
  });

  it('refuses the request past ai_tokens_per_month (prompt + completion) with 429 QUOTA_EXCEEDED', async () => {
    await setPlan('free', { ai_tokens_per_month: 1000 });
    const user = await app.registerUser();
    // Last month's tokens (UTC) do not count.
    await insertUsage(user.id, 1, 50_000, `date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - interval '1 second'`);
    await insertUsage(user.id, 1, 900);
    expect((await chat(user.token)).status).toBe(200); // 900 + 18 tokens now
    standIn.configure({ promptTokens: 60, completionTokens: 40 });
    expect((await chat(user.token)).status).toBe(200); // 1018

    const expected = { limit: 1000, used: 1018, window: 'month' as const, scope: 'plan' as const };
    const message = 'The Free plan allows 1000 AI tokens per month';
    expectQuota(await chat(user.token), expected, message);
    expectQuota(await app.post('/ai/generate-code', { model: MODEL, prompt: 'print 1' }, { token: user.token }), expected, message);
    expect(standIn.requests).toHaveLength(2);
  });

  it('does not limit an admin', async () => {
    const { rows } = await app.query(`SELECT id, level FROM users WHERE role = 'admin' LIMIT 1`);
    const [{ id, level }] = rows;
    await setPlan(level, { ai_requests_per_day: 0, ai_tokens_per_month: 0 });
    await insertUsage(id, 3, 1000);
    const response = await chat(admin);
    expect(response.status).toBe(200);
    expect(standIn.requests).toHaveLength(1);
  });

  it('answers the gateway 429 in OpenAI\'s shape', async () => {
    await setPlan('free', { ai_requests_per_day: 1 });
    const user: User = await app.registerUser();
    const key = await app.post('/api-keys', { name: 'chat', scopes: ['ai:chat'] }, { token: user.token });
    expect(key.status).toBe(201);
    await insertUsage(user.id, 1, 10);
    const response = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.body.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(response.status).toBe(429);
    expect(await response.json()).toEqual({
      error: { message: 'The Free plan allows 1 AI requests per day', type: 'rate_limit_error', code: 'insufficient_quota', param: null },
    });
    // Streamed as well: refused before any event.
    const streamed = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.body.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    expect(streamed.status).toBe(429);
    expect(((await streamed.json()) as any).error.code).toBe('insufficient_quota');
    expect(standIn.requests).toHaveLength(0);
  });

  it('never refuses when both limits are null (unlimited)', async () => {
    await setPlan('free', { ai_requests_per_day: null, ai_tokens_per_month: null });
    const user = await app.registerUser();
    await insertUsage(user.id, 500, 100_000);
    expect((await chat(user.token)).status).toBe(200);
    expect((await app.post('/ai/generate-code', { model: MODEL, prompt: 'print 1' }, { token: user.token })).status).not.toBe(429);
    expect(standIn.requests).toHaveLength(2);
  });
});
