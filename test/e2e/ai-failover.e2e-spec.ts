import { AiUpstreamStandIn } from '../support/ai-upstream';
import { expectError } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Provider failover: a provider whose own endpoint fails AI_FAILOVER_THRESHOLD
 * calls in a row (5xx, timeouts, broken replies — not 4xx) cools down for
 * AI_FAILOVER_COOLDOWN_SECONDS; a model several providers offer goes to the
 * next one by the models' sort order meanwhile, and the catalog shows each
 * provider's health. Two stand-in upstreams play two providers of one model.
 */

const THRESHOLD = 2;
const COOLDOWN_S = 2;

describe('AI provider failover and health', () => {
  let app: TestApp;
  let first: AiUpstreamStandIn;
  let second: AiUpstreamStandIn;
  let admin: string;
  let user: Awaited<ReturnType<TestApp['registerUser']>>;
  let tests = 0;
  /** This test's model and its two providers (fresh per test, so each starts healthy): `a` on the first stand-in, `b` on the second. */
  let MODEL: string;
  let providerIds: { a: string; b: string };

  beforeAll(async () => {
    [first, second] = await Promise.all([AiUpstreamStandIn.start(), AiUpstreamStandIn.start()]);
    app = await TestApp.start({ AI_FAILOVER_THRESHOLD: String(THRESHOLD), AI_FAILOVER_COOLDOWN_SECONDS: String(COOLDOWN_S) });
    admin = await app.adminToken();
    user = await app.registerUser();
  });
  afterAll(async () => {
    await app?.stop();
    await Promise.all([first?.close(), second?.close()]);
  });
  beforeEach(async () => {
    first.reset();
    second.reset();
    tests += 1;
    MODEL = `fo-model-${tests}`;
    providerIds = { a: await offer(`fo${tests}-a`, first, 0), b: await offer(`fo${tests}-b`, second, 1) };
  });

  /** A provider on this stand-in with a platform key, offering MODEL at this sort order; its id. */
  async function offer(key: string, standIn: AiUpstreamStandIn, order: number): Promise<string> {
    const provider = await app.post(
      '/providers',
      { provider_key: key, display_name: key, default_base_url: `${standIn.url}/v1`, api_style: 'openai', api_key: `sk-${key}-0123456789` },
      { token: admin },
    );
    if (provider.status !== 201) throw new Error(`provider setup failed: ${provider.status} ${JSON.stringify(provider.body)}`);
    const model = { model_name: MODEL, display_name: MODEL, provider: key, max_tokens: 100_000, sort_order: order };
    const created = await app.post('/models', model, { token: admin });
    if (created.status !== 201) throw new Error(`model setup failed: ${created.status} ${JSON.stringify(created.body)}`);
    return provider.body.id;
  }

  const chat = (): Promise<ApiResponse> => app.post('/ai/chat', { model: MODEL, message: 'hi' }, { token: user.token });
  const health = async (which: 'a' | 'b') => (await app.get(`/providers/${providerIds[which]}`, { token: user.token })).body.health;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('goes to the next provider by sort order once the first failed THRESHOLD times in a row; the catalog shows it', async () => {
    expect(await health('a')).toMatchObject({ status: 'healthy', consecutive_failures: 0, cooldown_until: null });

    first.configure({ fail: { status: 503, message: 'overloaded' } });
    expectError(await chat(), 502, 'UPSTREAM_ERROR');
    expect(await health('a')).toMatchObject({ status: 'failing', consecutive_failures: 1, cooldown_until: null, last_error: expect.stringContaining('overloaded') });
    expectError(await chat(), 502, 'UPSTREAM_ERROR');
    expect(first.requests).toHaveLength(THRESHOLD);
    expect(second.requests).toHaveLength(0);

    const cooling = await health('a');
    expect(cooling).toMatchObject({ status: 'cooldown', consecutive_failures: THRESHOLD });
    expect(Date.parse(cooling.cooldown_until) - Date.now()).toBeGreaterThan(0);
    expect(Date.parse(cooling.cooldown_until) - Date.now()).toBeLessThanOrEqual(COOLDOWN_S * 1000);
    const listed = (await app.get('/providers', { token: user.token })).body.providers;
    expect(listed.find((p: { id: string }) => p.id === providerIds.a).health.status).toBe('cooldown');
    expect(listed.find((p: { id: string }) => p.id === providerIds.b).health.status).toBe('healthy');

    // Cooling down: chat, its stream, generate-code and the gateway go to the second provider.
    expect((await chat()).status).toBe(200);
    const streamed = await app.post('/ai/chat/stream', { model: MODEL, message: 'hi' }, { token: user.token });
    expect(streamed.status).toBe(200);
    expect(streamed.body).toContain('"type":"done"');
    const key = (await app.post('/api-keys', { name: 'gw', scopes: ['ai:chat'] }, { token: user.token })).body.key;
    const gateway = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(gateway.status).toBe(200);
    expect(first.requests).toHaveLength(THRESHOLD);
    expect(second.requests).toHaveLength(3);
    expect(second.requests[0].headers.authorization).toBe(`Bearer sk-fo${tests}-b-0123456789`);

    // The cooldown over, the first provider is tried again: one more failure cools it down at once…
    await sleep(COOLDOWN_S * 1000 + 100);
    expectError(await chat(), 502, 'UPSTREAM_ERROR');
    expect(first.requests).toHaveLength(THRESHOLD + 1);
    expect((await health('a')).status).toBe('cooldown');
    // …and after the next cooldown, a success makes it healthy.
    await sleep(COOLDOWN_S * 1000 + 100);
    first.configure();
    expect((await chat()).status).toBe(200);
    expect(await health('a')).toMatchObject({ status: 'healthy', consecutive_failures: 0, cooldown_until: null, last_success_at: expect.any(String) });
  });

  it('counts broken streams, never 4xx; a success in between starts the count again', async () => {
    first.configure({ fail: { status: 401, message: 'bad key' } });
    for (let i = 0; i < THRESHOLD + 1; i++) expectError(await chat(), 502, 'UPSTREAM_ERROR');
    expect(await health('a')).toMatchObject({ status: 'healthy', consecutive_failures: 0 });

    first.configure({ dropMidStream: true });
    const broken = await app.post('/ai/chat/stream', { model: MODEL, message: 'hi' }, { token: user.token });
    expect(broken.body).toContain('"code":"UPSTREAM_ERROR"');
    expect((await health('a')).consecutive_failures).toBe(1);
    first.configure();
    expect((await chat()).status).toBe(200);
    expect((await health('a')).consecutive_failures).toBe(0);
  });

  it('answers 503 with Retry-After when every provider of the model is cooling down', async () => {
    first.configure({ fail: { status: 500, message: 'down' } });
    second.configure({ fail: { status: 500, message: 'down too' } });
    for (let i = 0; i < THRESHOLD; i++) expectError(await chat(), 502, 'UPSTREAM_ERROR');
    // The first cools down; the second now takes the calls, and fails too.
    for (let i = 0; i < THRESHOLD; i++) expectError(await chat(), 502, 'UPSTREAM_ERROR');
    expect(second.requests).toHaveLength(THRESHOLD);
    const refused = await chat();
    expectError(refused, 503, 'SERVICE_UNAVAILABLE');
    expect(refused.body.error.message).toMatch(new RegExp(`^Every provider of ${MODEL} is cooling down`));
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(COOLDOWN_S);
    expect(refused.body.error.details).toEqual({ model: MODEL, retry_after: retryAfter });
    expect(first.requests.length + second.requests.length).toBe(2 * THRESHOLD);
  });

  it('a call to the user\'s own base_url neither counts toward the provider\'s health nor is held back by it', async () => {
    const config = await app.post(
      '/ai-configs',
      { name: 'mine', provider: `fo${tests}-a`, base_url: `${second.url}/v1`, api_key: 'sk-mine-0123456789', model: MODEL },
      { token: user.token },
    );
    expect(config.status).toBe(201);
    try {
      second.configure({ fail: { status: 503, message: 'my server is down' } });
      for (let i = 0; i < THRESHOLD + 1; i++) expectError(await chat(), 502, 'UPSTREAM_ERROR');
      expect((await health('a')).status).toBe('healthy');
      expect(first.requests).toHaveLength(0);
    } finally {
      await app.delete(`/ai-configs/${config.body.id}`, { token: user.token });
    }
  });
});
