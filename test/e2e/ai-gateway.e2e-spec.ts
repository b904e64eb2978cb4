import OpenAI from 'openai';
import { serveCustomModels } from '../support/ai-catalog-setup';
import { AiUpstreamStandIn } from '../support/ai-upstream';
import { expectError } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * The OpenAI-compatible gateway (/v1/chat/completions, /v1/models at the
 * server root) end to end: the official `openai` client unchanged, the exact
 * wire shapes, OpenAI-shaped errors (guard refusals included), usage recorded
 * with its cost and no conversation stored, a client leaving mid-stream.
 */

const PLATFORM_KEY = 'sk-platform-gateway-0123456789abcdef';

describe('OpenAI-compatible gateway (/v1/chat/completions, /v1/models)', () => {
  let app: TestApp;
  let standIn: AiUpstreamStandIn;
  let user: Awaited<ReturnType<TestApp['registerUser']>>;
  let chatKey: string;
  let runKey: string;
  let client: OpenAI;

  beforeAll(async () => {
    standIn = await AiUpstreamStandIn.start();
    app = await TestApp.start();
    const admin = await app.adminToken();
    await serveCustomModels(app, admin, standIn, PLATFORM_KEY, [
      { model_name: 'gw-chat', max_tokens: 100_000, input_price_per_1k: 0.5, output_price_per_1k: 1.5 },
      { model_name: 'gw-off', max_tokens: 1000, inactive: true },
    ]);
    user = await app.registerUser();
    chatKey = (await app.post('/api-keys', { name: 'chat', scopes: ['ai:chat'] }, { token: user.token })).body.key;
    // One key per user on the default plan: the key without the scope is another user's.
    const other = await app.registerUser();
    runKey = (await app.post('/api-keys', { name: 'run', scopes: ['execute'] }, { token: other.token })).body.key;
    client = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: chatKey, maxRetries: 0 });
  });
  afterAll(async () => {
    await app?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  const usageRows = async () =>
    (await app.query('SELECT conversation_id, model, provider, prompt_tokens, completion_tokens, cost::text AS cost FROM ai_usage WHERE user_id = $1 ORDER BY created_at', [user.id])).rows;

  function post(body: unknown, headers: Record<string, string> = { authorization: `Bearer ${chatKey}` }): Promise<Response> {
    return fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  }

  it('answers a completion to the official client, with the platform key upstream; records usage with cost, no conversation', async () => {
    standIn.configure({ reply: 'Use s[::-1].', promptTokens: 1000, completionTokens: 2000 });
    const before = (await usageRows()).length;
    const completion = await client.chat.completions.create({
      model: 'gw-chat',
      messages: [{ role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Reverse a string?' }, { role: 'assistant', content: 'In Python?' }, { role: 'user', content: 'Yes' }],
      temperature: 0.2,
      max_tokens: 64,
    });
    expect(completion).toMatchObject({
      object: 'chat.completion',
      model: 'gw-chat',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Use s[::-1].' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1000, completion_tokens: 2000, total_tokens: 3000 },
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(Number.isInteger(completion.created)).toBe(true);

    const sent = standIn.requests[0];
    expect(sent.headers.authorization).toBe(`Bearer ${PLATFORM_KEY}`);
    expect(sent.body).toMatchObject({ model: 'gw-chat', temperature: 0.2, max_tokens: 64 });
    expect(sent.body.messages).toEqual([
      { role: 'system', content: 'Be terse.' }, { role: 'user', content: 'Reverse a string?' }, { role: 'assistant', content: 'In Python?' }, { role: 'user', content: 'Yes' },
    ]);
    const rows = await usageRows();
    expect(rows.length).toBe(before + 1);
    expect(rows[rows.length - 1]).toEqual({ conversation_id: null, model: 'gw-chat', provider: 'custom', prompt_tokens: 1000, completion_tokens: 2000, cost: '3.500000' });
    const { rows: conversations } = await app.query('SELECT count(*)::int AS n FROM ai_conversations WHERE user_id = $1', [user.id]);
    expect(conversations[0].n).toBe(0);
  });

  it('streams to the official client: deltas in order, usage with include_usage', async () => {
    standIn.configure({ reply: 'Hello, streaming world', chunks: 4, promptTokens: 5, completionTokens: 6 });
    const stream = await client.chat.completions.create({
      model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Hello, streaming world');
    expect(finish).toBe('stop');
    expect(usage).toEqual({ prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 });
    expect((await usageRows()).at(-1)).toMatchObject({ model: 'gw-chat', prompt_tokens: 5, completion_tokens: 6 });
  });

  it('sends the exact wire shapes: chunks, a final stop chunk, the usage chunk, then data: [DONE]', async () => {
    standIn.configure({ reply: 'abcdef', chunks: 2, promptTokens: 3, completionTokens: 4 });
    const response = await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const blocks = (await response.text()).split('\n\n').filter(Boolean);
    expect(blocks.at(-1)).toBe('data: [DONE]');
    const chunks = blocks.slice(0, -1).map((b) => { expect(b.startsWith('data: ')).toBe(true); return JSON.parse(b.slice(6)); });
    const id = chunks[0].id;
    expect(id).toMatch(/^chatcmpl-/);
    for (const c of chunks) expect(c).toMatchObject({ id, object: 'chat.completion.chunk', model: 'gw-chat', created: chunks[0].created });
    expect(chunks[0].choices).toEqual([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    expect(chunks.slice(1, 3).map((c) => c.choices[0])).toEqual([
      { index: 0, delta: { content: 'abc' }, logprobs: null, finish_reason: null },
      { index: 0, delta: { content: 'def' }, logprobs: null, finish_reason: null },
    ]);
    expect(chunks[3].choices).toEqual([{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }]);
    expect(chunks[4]).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } });
    expect(chunks).toHaveLength(5);

    // Without include_usage: no usage chunk.
    const plain = await (await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }], stream: true })).text();
    expect(plain).not.toContain('"usage"');
    expect(plain.endsWith('data: [DONE]\n\n')).toBe(true);

    // Non-streaming: the exact keys.
    const whole = await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }] });
    expect(whole.status).toBe(200);
    const body = (await whole.json()) as any;
    expect(Object.keys(body).sort()).toEqual(['choices', 'created', 'id', 'model', 'object', 'usage']);
    expect(body.object).toBe('chat.completion');
  });

  it('lists the active chat models: client.models.list() and the raw shape', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toContain('gw-chat');
    expect(ids).not.toContain('gw-off');
    const raw = await fetch(`${app.url}/v1/models`, { headers: { authorization: `Bearer ${chatKey}` } });
    expect(raw.status).toBe(200);
    const body = (await raw.json()) as any;
    expect(body.object).toBe('list');
    expect(body.data.find((m: any) => m.id === 'gw-chat')).toEqual({ id: 'gw-chat', object: 'model', created: expect.any(Number), owned_by: 'custom' });
  });

  it('refuses in OpenAI\'s shape: 401 invalid_api_key, 403 without ai:chat, 404 model_not_found, 400 invalid_request_error', async () => {
    const bad = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: 'sk-not-a-real-key-000000000000', maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    await expect(bad.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const noScope = new OpenAI({ baseURL: `${app.url}/v1`, apiKey: runKey, maxRetries: 0 });
    await expect(noScope.chat.completions.create({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    await expect(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    await expect(client.chat.completions.create({ model: 'gw-off', messages: [{ role: 'user', content: 'hi' }], stream: true })).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    const missing = await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }] }, {});
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', code: 'invalid_api_key', param: null } });
    const unknown = await post({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error).toMatchObject({ type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
    const forbidden = await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${runKey}` });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as any).error).toMatchObject({ type: 'permission_error' });
    for (const body of [
      { messages: [{ role: 'user', content: 'hi' }] },
      { model: 'gw-chat', messages: [] },
      { model: 'gw-chat', messages: [{ role: 'tool', content: 'hi' }] },
      { model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }], temperature: 3 },
      { model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }], n: 2 },
    ]) {
      const response = await post(body);
      expect([JSON.stringify(body), response.status]).toEqual([JSON.stringify(body), 400]);
      expect(((await response.json()) as any).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_request_error', message: expect.any(String) });
    }
    const malformed = await fetch(`${app.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${chatKey}`, 'content-type': 'application/json' }, body: '{bad' });
    // Refused by Fastify before the route runs: still OpenAI's shape.
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: { message: expect.any(String), type: 'invalid_request_error', code: 'invalid_request_error', param: null } });
    expect(standIn.requests).toHaveLength(0);
    // /api/v1 keeps the platform's envelope.
    expectError(await app.post('/ai/chat', { model: 'gw-chat', message: 'hi' }), 401, 'UNAUTHORIZED');
  });

  it('answers 502 upstream_error in OpenAI\'s shape when the provider fails, and records nothing', async () => {
    const before = (await usageRows()).length;
    standIn.configure({ fail: { status: 500, message: 'boom' } });
    const response = await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }] });
    expect(response.status).toBe(502);
    expect(((await response.json()) as any).error).toMatchObject({ type: 'api_error', code: 'upstream_error' });
    expect((await usageRows()).length).toBe(before);
  });

  it('accepts a user JWT too', async () => {
    const response = await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }] }, { authorization: `Bearer ${user.token}` });
    expect(response.status).toBe(200);
    expect(((await response.json()) as any).choices[0].message.content).toBe('Hello from the stand-in');
  });

  it('ends a stream whose provider fails midway with an OpenAI error event (the client throws), no [DONE], no usage', async () => {
    const before = (await usageRows()).length;
    standIn.configure({ reply: 'abcdef', chunks: 3, dropMidStream: true });
    const text = await (await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }], stream: true })).text();
    expect(text).toContain('"code":"upstream_error"');
    expect(text).not.toContain('[DONE]');
    standIn.configure({ reply: 'abcdef', chunks: 3, dropMidStream: true });
    const stream = await client.chat.completions.create({ model: 'gw-chat', messages: [{ role: 'user', content: 'hi' }], stream: true });
    await expect((async () => {
      for await (const chunk of stream) void chunk;
    })()).rejects.toBeInstanceOf(OpenAI.APIError);
    expect((await usageRows()).length).toBe(before);
  });

  it('audits the POST with the model only (no messages)', async () => {
    const response = await post({ model: 'gw-chat', messages: [{ role: 'user', content: 'secret question' }] });
    expect(response.status).toBe(200);
    const { rows } = await app.query(
      `SELECT action, metadata, status_code FROM audit_logs WHERE path = '/v1/chat/completions' AND user_id = $1 AND created_at > now() - interval '1 hour' ORDER BY created_at DESC LIMIT 1`,
      [user.id],
    );
    expect(rows[0].status_code).toBe(200);
    expect(rows[0].action).toBe('ai.gateway_chat');
    expect(rows[0].metadata.model).toBe('gw-chat');
    expect(JSON.stringify(rows[0].metadata)).not.toContain('secret question');
  });

  it('stops the upstream call when the client leaves mid-stream; records no usage', async () => {
    const before = (await usageRows()).length;
    standIn.configure({ reply: 'x'.repeat(200), chunks: 50, chunkDelayMs: 100 });
    const abort = new AbortController();
    const response = await fetch(`${app.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${chatKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gw-chat', messages: [{ role: 'user', content: 'long' }], stream: true }),
      signal: abort.signal,
    });
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('"content":"x')) seen += new TextDecoder().decode((await reader.read()).value);
    abort.abort();
    await standIn.settled();
    expect(standIn.requests).toHaveLength(1);
    expect(standIn.requests[0].closedEarly).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await usageRows()).length).toBe(before);
  });
});
