import { serveCustomModels } from '../support/ai-catalog-setup';
import { AiUpstreamStandIn } from '../support/ai-upstream';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * AI chat end to end, against a stand-in provider: POST /ai/chat and
 * /ai/chat/stream, /conversations (list, messages, rename, delete) and
 * GET /ai/usage. Credentials (a user's config, the platform key, none), the
 * history sent and its trimming, costs, failures storing nothing, API key
 * scopes, SSE order and a client leaving mid-stream.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const PLATFORM_KEY = 'sk-platform-0123456789abcdefwxyz';
const USER_KEY = 'sk-user-0123456789abcdef9876';

type User = Awaited<ReturnType<TestApp['registerUser']>>;

interface SseEvent {
  type: string;
  [key: string]: any;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => block.startsWith('data: '))
    .map((block) => JSON.parse(block.slice('data: '.length)) as SseEvent);
}

describe('AI chat (/api/v1/ai/chat, /api/v1/conversations, /api/v1/ai/usage)', () => {
  let app: TestApp;
  let standIn: AiUpstreamStandIn;
  let admin: string;
  let alice: User;
  let bob: User;

  beforeAll(async () => {
    standIn = await AiUpstreamStandIn.start();
    app = await TestApp.start();
    admin = await app.adminToken();
    [alice, bob] = [await app.registerUser(), await app.registerUser()];

    // The platform key of the `custom` provider points at the stand-in.
    await serveCustomModels(app, admin, standIn, PLATFORM_KEY, [
      { model_name: 'test-chat', max_tokens: 100_000, input_price_per_1k: 0.5, output_price_per_1k: 1.5 },
      { model_name: 'test-tiny', max_tokens: 100 },
      { model_name: 'test-off', max_tokens: 1000, inactive: true },
    ]);
  });
  afterAll(async () => {
    await app?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  const chat = (token: string, body: Record<string, unknown>): Promise<ApiResponse> => app.post('/ai/chat', { model: 'test-chat', ...body }, { token });

  async function count(table: 'ai_conversations' | 'ai_usage', userId: string): Promise<number> {
    const { rows } = await app.query(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [userId]);
    return rows[0].n;
  }

  async function messageCount(userId: string): Promise<number> {
    const { rows } = await app.query(
      'SELECT count(*)::int AS n FROM ai_messages m JOIN ai_conversations c ON c.id = m.conversation_id WHERE c.user_id = $1',
      [userId],
    );
    return rows[0].n;
  }

  /** POST /ai/chat/stream with the raw fetch: the response, to read as it comes. */
  function openStream(token: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
    return fetch(`${app.url}/api/v1/ai/chat/stream`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'test-chat', ...body }),
      signal,
    });
  }

  describe('POST /ai/chat', () => {
    it('answers with the reply, stores the conversation, both messages and the usage with its cost', async () => {
      const user = await app.registerUser();
      standIn.configure({ reply: 'Use s[::-1].', promptTokens: 1000, completionTokens: 2000 });
      const message = `${'Reverse a string in Python, please. '.repeat(4)}Thanks`;
      const response = await chat(user.token, { message, system_prompt: 'You are terse.' });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['conversation_id', 'model', 'response', 'timestamp', 'usage']);
      expect(response.body).toMatchObject({
        response: 'Use s[::-1].',
        model: 'test-chat',
        usage: { prompt_tokens: 1000, completion_tokens: 2000, total_tokens: 3000, cost: 3.5 },
      });
      expect(response.body.conversation_id).toMatch(UUID);

      // What the stand-in was sent: the system prompt first, then the message, with the platform key.
      expect(standIn.requests).toHaveLength(1);
      const sent = standIn.requests[0];
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.headers.authorization).toBe(`Bearer ${PLATFORM_KEY}`);
      expect(sent.body.model).toBe('test-chat');
      expect(sent.body.messages).toEqual([
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: message },
      ]);

      const { rows: conversations } = await app.query('SELECT user_id, title, model FROM ai_conversations WHERE id = $1', [response.body.conversation_id]);
      expect(conversations).toEqual([{ user_id: user.id, title: message.slice(0, 80), model: 'test-chat' }]);
      const { rows: messages } = await app.query(
        'SELECT role, content, prompt_tokens, completion_tokens, cost::text AS cost, model, latency_ms FROM ai_messages WHERE conversation_id = $1 ORDER BY seq',
        [response.body.conversation_id],
      );
      expect(messages.map((m) => [m.role, m.content])).toEqual([['user', message], ['assistant', 'Use s[::-1].']]);
      expect(messages[1]).toMatchObject({ prompt_tokens: 1000, completion_tokens: 2000, cost: '3.500000', model: 'test-chat' });
      expect(messages[1].latency_ms).toBeGreaterThanOrEqual(0);
      const { rows: usage } = await app.query('SELECT conversation_id, model, provider, prompt_tokens, completion_tokens, cost::text AS cost FROM ai_usage WHERE user_id = $1', [user.id]);
      expect(usage).toEqual([{ conversation_id: response.body.conversation_id, model: 'test-chat', provider: 'custom', prompt_tokens: 1000, completion_tokens: 2000, cost: '3.500000' }]);
    });

    it('sends the conversation\'s history with the next message', async () => {
      standIn.configure({ reply: 'first reply' });
      const first = await chat(alice.token, { message: 'first question' });
      expect(first.status).toBe(200);
      standIn.configure({ reply: 'second reply' });
      const second = await chat(alice.token, { message: 'second question', conversation_id: first.body.conversation_id.toUpperCase() });
      expect(second.status).toBe(200);
      expect(second.body.conversation_id).toBe(first.body.conversation_id);
      expect(standIn.requests[1].body.messages).toEqual([
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first reply' },
        { role: 'user', content: 'second question' },
      ]);
      const messages = await app.get(`/conversations/${first.body.conversation_id}/messages`, { token: alice.token });
      expect(messages.status).toBe(200);
      expect(messages.body.messages.map((m: any) => m.content)).toEqual(['first question', 'first reply', 'second question', 'second reply']);
      expect(messages.body.pagination).toEqual({ total: 4, page: 1, limit: 20, pages: 1 });
    });

    it('leaves the oldest history out when it would not fit the model\'s context (test-tiny: 100 tokens, 50 for the reply)', async () => {
      // Each message is 40 characters: 10 estimated tokens.
      const text = (label: string) => label.padEnd(40, '.');
      standIn.configure({ reply: text('reply 1') });
      const first = await chat(alice.token, { model: 'test-tiny', message: text('question 1') });
      expect(first.status).toBe(200);
      const id = first.body.conversation_id;
      for (const n of [2, 3]) {
        standIn.configure({ reply: text(`reply ${n}`) });
        expect((await chat(alice.token, { model: 'test-tiny', message: text(`question ${n}`), conversation_id: id })).status).toBe(200);
      }
      standIn.reset();
      expect((await chat(alice.token, { model: 'test-tiny', message: text('question 4'), conversation_id: id })).status).toBe(200);
      // 100 - 50 (reply) - 10 (the new message) = 40 tokens of history: the newest 4 messages.
      const sent = standIn.requests[0].body;
      expect(sent.max_tokens).toBe(50);
      expect((sent.messages as any[]).map((m) => m.content)).toEqual([
        text('question 2'), text('reply 2'), text('question 3'), text('reply 3'), text('question 4'),
      ]);
    });

    it('uses my own AI config of the model\'s provider (its base_url and key) before any platform key', async () => {
      const user = await app.registerUser();
      const config = await app.post('/ai-configs', { name: 'mine', provider: 'deepseek', model: 'deepseek-chat', base_url: `${standIn.url}/v1`, api_key: USER_KEY }, { token: user.token });
      expect(config.status).toBe(201);
      const response = await chat(user.token, { model: 'deepseek-chat', message: 'hi' });
      expect(response.status).toBe(200);
      expect(standIn.requests[0].headers.authorization).toBe(`Bearer ${USER_KEY}`);
    });

    it('400 BAD_REQUEST without credentials for the provider, saying what to configure; nothing is called or stored', async () => {
      const response = await chat(bob.token, { model: 'deepseek-chat', message: 'hi' });
      expectError(response, 400, 'BAD_REQUEST');
      expect(response.body.error.message).toContain('Add an AI config for deepseek or ask an admin for a platform key');
      expect(standIn.requests).toHaveLength(0);
      expect(await count('ai_conversations', bob.id)).toBe(0);
    });

    it('404 for an unknown or inactive model', async () => {
      expectError(await chat(bob.token, { model: 'no-such-model', message: 'hi' }), 404, 'NOT_FOUND');
      expectError(await chat(bob.token, { model: 'test-off', message: 'hi' }), 404, 'NOT_FOUND');
      expect(standIn.requests).toHaveLength(0);
    });

    it('404 for someone else\'s conversation or none at all', async () => {
      const mine = await chat(alice.token, { message: 'private' });
      expect(mine.status).toBe(200);
      standIn.reset();
      expectError(await chat(bob.token, { message: 'mine now', conversation_id: mine.body.conversation_id }), 404, 'NOT_FOUND');
      expectError(await chat(bob.token, { message: 'hi', conversation_id: UNKNOWN_ID }), 404, 'NOT_FOUND');
      expect(standIn.requests).toHaveLength(0);
      expect(await count('ai_conversations', bob.id)).toBe(0);
    });

    it('502 UPSTREAM_ERROR when the provider fails, and nothing is stored', async () => {
      const user = await app.registerUser();
      standIn.configure({ fail: { status: 500, message: 'the model fell over' } });
      expectError(await chat(user.token, { message: 'hi' }), 502, 'UPSTREAM_ERROR');
      expect(await count('ai_conversations', user.id)).toBe(0);
      expect(await count('ai_usage', user.id)).toBe(0);

      // Continuing a conversation: the failed message is not added to it either.
      standIn.reset();
      const first = await chat(user.token, { message: 'hello' });
      standIn.configure({ fail: { status: 500, message: 'again' } });
      expectError(await chat(user.token, { message: 'lost', conversation_id: first.body.conversation_id }), 502, 'UPSTREAM_ERROR');
      expect(await messageCount(user.id)).toBe(2);
      expect(await count('ai_usage', user.id)).toBe(1);
    });

    it('accepts an API key with the ai:chat scope; 403 without it; 401 without credentials', async () => {
      const user = await app.registerUser();
      const withScope = (await app.post('/api-keys', { name: 'chat', scopes: ['ai:chat'] }, { token: user.token })).body.key;
      // One key per user on the default plan: the key without the scope is another user's.
      const other = await app.registerUser();
      const without = (await app.post('/api-keys', { name: 'run', scopes: ['execute'] }, { token: other.token })).body.key;
      expect(typeof withScope).toBe('string');
      expect(typeof without).toBe('string');
      const ok = await app.post('/ai/chat', { model: 'test-chat', message: 'hi' }, { apiKey: withScope });
      expect(ok.status).toBe(200);
      expect(await count('ai_conversations', user.id)).toBe(1);
      expectError(await app.post('/ai/chat', { model: 'test-chat', message: 'hi' }, { apiKey: without }), 403, 'FORBIDDEN');
      expectError(await app.post('/ai/chat/stream', { model: 'test-chat', message: 'hi' }, { apiKey: without }), 403, 'FORBIDDEN');
      expectError(await app.post('/ai/chat', { model: 'test-chat', message: 'hi' }), 401, 'UNAUTHORIZED');
      expectError(await app.post('/ai/chat/stream', { model: 'test-chat', message: 'hi' }), 401, 'UNAUTHORIZED');
      expectError(await app.get('/conversations'), 401, 'UNAUTHORIZED');
      expectError(await app.get('/ai/usage'), 401, 'UNAUTHORIZED');
    });

    it('400 for bad bodies', async () => {
      expectValidation(await app.post('/ai/chat', { model: 'test-chat' }, { token: bob.token }), 'message');
      expectValidation(await chat(bob.token, { message: '' }), 'message');
      expectValidation(await chat(bob.token, { message: 'x'.repeat(100_001) }), 'message');
      expectValidation(await chat(bob.token, { message: 'hi', model: null }), 'model');
      expectValidation(await chat(bob.token, { message: 'hi', conversation_id: 'nope' }), 'conversation_id');
      expectValidation(await chat(bob.token, { message: 'hi', conversation_id: null }), 'conversation_id');
      expectValidation(await chat(bob.token, { message: 'hi', system_prompt: 'x'.repeat(20_001) }), 'system_prompt');
      expectValidation(await chat(bob.token, { message: 'hi', extra: 1 }), 'extra');
      expectValidation(await app.post('/ai/chat/stream', { model: 'test-chat' }, { token: bob.token }), 'message');
      expect(standIn.requests).toHaveLength(0);
    });

    it('audits the chat with the model and conversation only, never the text', async () => {
      const response = await chat(alice.token, { message: 'audit-secret-text', system_prompt: 'audit-secret-prompt' });
      expect(response.status).toBe(200);
      const requestId = response.headers.get('x-request-id');
      const deadline = Date.now() + 3000;
      let rows: any[] = [];
      while (rows.length === 0 && Date.now() < deadline) {
        ({ rows } = await app.query('SELECT action, resource_id, metadata::text AS metadata FROM audit_logs WHERE request_id = $1', [requestId]));
        if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(rows[0]).toMatchObject({ action: 'ai.chat', resource_id: response.body.conversation_id });
      expect(JSON.parse(rows[0].metadata)).toMatchObject({ model: 'test-chat', conversation_id: null });
      expect(rows[0].metadata).not.toContain('audit-secret');
    });
  });

  describe('POST /ai/chat/stream', () => {
    it('streams content pieces then done, and stores the exchange', async () => {
      const user = await app.registerUser();
      standIn.configure({ reply: 'one two three', chunks: 3, promptTokens: 2000, completionTokens: 1000 });
      const response = await openStream(user.token, { message: 'count to three' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      const events = parseSse(await response.text());
      const content = events.filter((e) => e.type === 'content');
      expect(content.length).toBeGreaterThanOrEqual(2);
      expect(content.map((e) => e.content).join('')).toBe('one two three');
      expect(events.at(-1)).toMatchObject({ type: 'done', usage: { prompt_tokens: 2000, completion_tokens: 1000, total_tokens: 3000, cost: 2.5 } });
      expect(events.findIndex((e) => e.type === 'done')).toBe(events.length - 1);
      const conversationId = events.at(-1)!.conversation_id;
      expect(conversationId).toMatch(UUID);
      expect(standIn.requests[0].body.stream).toBe(true);

      const messages = await app.get(`/conversations/${conversationId}/messages`, { token: user.token });
      expect(messages.body.messages.map((m: any) => [m.role, m.content])).toEqual([['user', 'count to three'], ['assistant', 'one two three']]);
      expect(messages.body.messages[1]).toMatchObject({ prompt_tokens: 2000, completion_tokens: 1000, cost: 2.5, model: 'test-chat' });
      expect(await count('ai_usage', user.id)).toBe(1);
    });

    it('answers refusals before the stream as JSON errors', async () => {
      const response = await app.post('/ai/chat/stream', { model: 'no-such-model', message: 'hi' }, { token: bob.token });
      expectError(response, 404, 'NOT_FOUND');
      expectError(await app.post('/ai/chat/stream', { model: 'deepseek-chat', message: 'hi' }, { token: bob.token }), 400, 'BAD_REQUEST');
    });

    it('ends with an error event when the provider fails, storing nothing', async () => {
      const user = await app.registerUser();
      standIn.configure({ fail: { status: 500, message: 'boom' } });
      const response = await openStream(user.token, { message: 'hi' });
      expect(response.status).toBe(200);
      const events = parseSse(await response.text());
      expect(events.at(-1)).toMatchObject({ type: 'error', error: { code: 'UPSTREAM_ERROR' } });
      expect(await count('ai_conversations', user.id)).toBe(0);
      expect(await count('ai_usage', user.id)).toBe(0);
    });

    it('stops the call to the provider when the client goes away mid-stream, storing nothing', async () => {
      const user = await app.registerUser();
      standIn.configure({ reply: 'a slow and long answer', chunks: 5, chunkDelayMs: 400 });
      const abort = new AbortController();
      const response = await openStream(user.token, { message: 'take your time' }, abort.signal);
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('"type":"content"');
      abort.abort();
      await reader.cancel().catch(() => undefined);

      const deadline = Date.now() + 5000;
      while (!standIn.requests[0]?.closedEarly && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(standIn.requests[0].closedEarly).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await count('ai_conversations', user.id)).toBe(0);
      expect(await count('ai_usage', user.id)).toBe(0);
    });
  });

  describe('/conversations', () => {
    it('lists mine, most recently updated first; renames; deletes with the messages, keeping the usage', async () => {
      const user = await app.registerUser();
      const older = (await chat(user.token, { message: 'older' })).body.conversation_id;
      const newer = (await chat(user.token, { message: 'newer' })).body.conversation_id;
      let list = await app.get('/conversations', { token: user.token });
      expect(list.status).toBe(200);
      expect(list.body.conversations.map((c: any) => c.id)).toEqual([newer, older]);
      expect(Object.keys(list.body.conversations[0]).sort()).toEqual(['created_at', 'id', 'message_count', 'model', 'title', 'updated_at']);
      expect(list.body.conversations[0]).toMatchObject({ title: 'newer', model: 'test-chat', message_count: 2 });
      expect(list.body.pagination).toEqual({ total: 2, page: 1, limit: 20, pages: 1 });

      // A new message moves the older one to the top.
      expect((await chat(user.token, { message: 'again', conversation_id: older })).status).toBe(200);
      list = await app.get('/conversations?limit=1', { token: user.token });
      expect(list.body.conversations.map((c: any) => c.id)).toEqual([older]);
      expect(list.body.pagination).toEqual({ total: 2, page: 1, limit: 1, pages: 2 });

      const renamed = await app.put(`/conversations/${older}`, { title: '  Renamed  ' }, { token: user.token });
      expect(renamed.status).toBe(200);
      expect(renamed.body).toMatchObject({ id: older, title: 'Renamed', message_count: 4 });
      expectValidation(await app.put(`/conversations/${older}`, { title: '' }, { token: user.token }), 'title');
      expectValidation(await app.put(`/conversations/${older}`, { title: 'x'.repeat(201) }, { token: user.token }), 'title');
      expectValidation(await app.put('/conversations/not-a-uuid', { title: 'x' }, { token: user.token }), 'id');

      const removed = await app.delete(`/conversations/${older}`, { token: user.token });
      expect(removed.status).toBe(200);
      expect(removed.body).toEqual({ success: true });
      expect((await app.query('SELECT count(*)::int AS n FROM ai_messages WHERE conversation_id = $1', [older])).rows[0].n).toBe(0);
      const { rows: usage } = await app.query('SELECT conversation_id FROM ai_usage WHERE user_id = $1 ORDER BY created_at', [user.id]);
      expect(usage.map((row) => row.conversation_id).sort()).toEqual([newer, null, null].sort());
      expectError(await app.get(`/conversations/${older}/messages`, { token: user.token }), 404, 'NOT_FOUND');
    });

    it('404 for someone else\'s conversation', async () => {
      const mine = (await chat(alice.token, { message: 'alice only' })).body.conversation_id;
      expectError(await app.get(`/conversations/${mine}/messages`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/conversations/${mine}`, { title: 'bob was here' }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/conversations/${mine}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/conversations/${UNKNOWN_ID}`, { token: bob.token }), 404, 'NOT_FOUND');
      expect((await app.get('/conversations', { token: bob.token })).body.conversations).toEqual([]);
      const { rows } = await app.query('SELECT title FROM ai_conversations WHERE id = $1', [mine]);
      expect(rows[0].title).toBe('alice only');
    });
  });

  describe('GET /ai/usage', () => {
    it('sums my usage in all, per model and per UTC day of the last 30', async () => {
      const user = await app.registerUser();
      const empty = await app.get('/ai/usage', { token: user.token });
      expect(empty.status).toBe(200);
      expect(empty.body.totals).toEqual({ requests: 0, prompt_tokens: 0, completion_tokens: 0, cost: 0 });
      expect(empty.body.by_model).toEqual([]);
      expect(empty.body.by_day).toHaveLength(30);

      standIn.configure({ promptTokens: 1000, completionTokens: 1000 });
      const first = (await chat(user.token, { message: 'a' })).body.conversation_id;
      await chat(user.token, { message: 'b', conversation_id: first });
      standIn.configure({ promptTokens: 30, completionTokens: 20 });
      await chat(user.token, { model: 'test-tiny', message: 'c' });
      // Someone else's usage and a day outside the window count for nothing here.
      await chat(bob.token, { message: 'not mine' });
      await app.query(
        `INSERT INTO ai_usage (id, user_id, model, provider, prompt_tokens, completion_tokens, cost, created_at)
         VALUES (gen_random_uuid(), $1, 'test-chat', 'custom', 5, 5, 1, now() - interval '40 days')`,
        [user.id],
      );

      const usage = await app.get('/ai/usage', { token: user.token });
      expect(usage.status).toBe(200);
      expect(Object.keys(usage.body).sort()).toEqual(['by_day', 'by_model', 'conversations', 'messages', 'totals']);
      expect(usage.body.totals).toEqual({ requests: 4, prompt_tokens: 2035, completion_tokens: 2025, cost: 5 });
      expect(usage.body.by_model).toEqual([
        { model: 'test-chat', requests: 3, prompt_tokens: 2005, completion_tokens: 2005, cost: 5 },
        { model: 'test-tiny', requests: 1, prompt_tokens: 30, completion_tokens: 20, cost: 0 },
      ]);
      expect(usage.body.by_day).toHaveLength(30);
      const today = new Date().toISOString().slice(0, 10);
      expect(usage.body.by_day.at(-1)).toEqual({ date: today, requests: 3, tokens: 4050, cost: 4 });
      expect(usage.body.by_day.slice(0, -1).every((day: any) => day.requests === 0)).toBe(true);
      expect(usage.body.conversations).toBe(2);
      expect(usage.body.messages).toBe(6);
    });
  });
});
