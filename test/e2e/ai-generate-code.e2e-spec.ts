import { serveCustomModels } from '../support/ai-catalog-setup';
import { AiUpstreamStandIn } from '../support/ai-upstream';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * POST /ai/generate-code end to end, against a stand-in provider: the code
 * block taken from the answer (with and without a language tag; none: 422),
 * credentials from config_id (another user's: 404), the usage recorded without
 * a conversation, run: true through the real sandbox, refusals and the audit.
 */

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const PLATFORM_KEY = 'sk-platform-0123456789abcdefwxyz';
const USER_KEY = 'sk-user-0123456789abcdef9876';
const MODEL = 'test-codegen';

describe('AI code generation (/api/v1/ai/generate-code)', () => {
  let app: TestApp;
  let standIn: AiUpstreamStandIn;
  let admin: string;

  beforeAll(async () => {
    standIn = await AiUpstreamStandIn.start();
    app = await TestApp.start();
    admin = await app.adminToken();
    // The platform key of the `custom` provider points at the stand-in.
    await serveCustomModels(app, admin, standIn, PLATFORM_KEY, [{ model_name: MODEL, max_tokens: 100_000, input_price_per_1k: 0.5, output_price_per_1k: 1.5 }]);
  });
  afterAll(async () => {
    await app?.stop();
    await standIn?.close();
  });
  beforeEach(() => standIn.reset());

  const generate = (token: string, body: Record<string, unknown>): Promise<ApiResponse> =>
    app.post('/ai/generate-code', { model: MODEL, ...body }, { token });

  async function usageRows(userId: string): Promise<any[]> {
    const { rows } = await app.query(
      'SELECT conversation_id, model, provider, prompt_tokens, completion_tokens, cost::text AS cost FROM ai_usage WHERE user_id = $1',
      [userId],
    );
    return rows;
  }

  it('answers the first fenced block (language tag) as the code, the rest as the explanation, and records the usage', async () => {
    const user = await app.registerUser();
    standIn.configure({
      reply: 'Here you go:\n\n```python\ndef rev(s):\n    return s[::-1]\n```\n\nSlicing with a step of -1 reverses it.\n',
      promptTokens: 1000,
      completionTokens: 2000,
    });
    const response = await generate(user.token, { prompt: 'Reverse a string' });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['code', 'explanation', 'model', 'usage']);
    expect(response.body).toEqual({
      code: 'def rev(s):\n    return s[::-1]',
      explanation: 'Here you go:\n\nSlicing with a step of -1 reverses it.',
      model: MODEL,
      usage: { prompt_tokens: 1000, completion_tokens: 2000, total_tokens: 3000, cost: 3.5 },
    });

    // A system prompt asking for one block in the language, then the prompt; the platform key.
    expect(standIn.requests).toHaveLength(1);
    const sent = standIn.requests[0];
    expect(sent.headers.authorization).toBe(`Bearer ${PLATFORM_KEY}`);
    const messages = sent.body.messages as Array<{ role: string; content: string }>;
    expect(messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(messages[0].content).toContain('```python');
    expect(messages[1].content).toBe('Reverse a string');

    // Usage as the chat records it, without a conversation; no conversation stored.
    expect(await usageRows(user.id)).toEqual([
      { conversation_id: null, model: MODEL, provider: 'custom', prompt_tokens: 1000, completion_tokens: 2000, cost: '3.500000' },
    ]);
    const { rows } = await app.query('SELECT count(*)::int AS n FROM ai_conversations WHERE user_id = $1', [user.id]);
    expect(rows[0].n).toBe(0);
    const usage = await app.get('/ai/usage', { token: user.token });
    expect(usage.body.totals).toMatchObject({ requests: 1, prompt_tokens: 1000, completion_tokens: 2000 });
  });

  it('takes a block without a language tag, and asks for javascript when told', async () => {
    const user = await app.registerUser();
    standIn.configure({ reply: '```\nconsole.log(1)\n```' });
    const response = await generate(user.token, { prompt: 'Print one', language: 'javascript' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ code: 'console.log(1)', explanation: '' });
    expect((standIn.requests[0].body.messages as Array<{ content: string }>)[0].content).toContain('```javascript');
  });

  it('takes only the first of several blocks, and a block never closed up to the end', async () => {
    const user = await app.registerUser();
    standIn.configure({ reply: '```py\nfirst()\n```\nthen\n```\nsecond()\n```' });
    const several = await generate(user.token, { prompt: 'Two' });
    expect(several.status).toBe(200);
    expect(several.body).toMatchObject({ code: 'first()', explanation: 'then\n```\nsecond()\n```' });
    standIn.configure({ reply: 'Sure:\n```python\nprint(2)\n' });
    const unclosed = await generate(user.token, { prompt: 'Unclosed' });
    expect(unclosed.status).toBe(200);
    expect(unclosed.body).toMatchObject({ code: 'print(2)\n', explanation: 'Sure:' });
  });

  it('answers 422 UNPROCESSABLE with the answer when there is no code block; the call is still counted', async () => {
    const user = await app.registerUser();
    standIn.configure({ reply: 'I cannot write that.' });
    const response = await generate(user.token, { prompt: 'Something' });
    expectError(response, 422, 'UNPROCESSABLE');
    expect(response.body.error.message).toBe('The model answered without a code block');
    expect(response.body.error.details).toMatchObject({ answer: 'I cannot write that.', model: MODEL });
    expect(await usageRows(user.id)).toHaveLength(1);
  });

  it('runs the code with run: true through the sandbox under my plan', async () => {
    const user = await app.registerUser();
    standIn.configure({ reply: 'The answer:\n```python\nprint(6*7)\n```' });
    const response = await generate(user.token, { prompt: 'Print the answer', run: true });
    expect(response.status).toBe(200);
    expect(response.body.code).toBe('print(6*7)');
    expect(response.body.execution).toMatchObject({ status: 'success', exit_code: 0, stdout: '42\n', language: 'python', source: 'web', code: 'print(6*7)' });
    const { rows } = await app.query('SELECT count(*)::int AS n FROM executions WHERE user_id = $1', [user.id]);
    expect(rows[0].n).toBe(1);
  });

  it('uses config_id: my config\'s key, base_url and model; another user\'s config answers 404', async () => {
    const [user, other] = [await app.registerUser(), await app.registerUser()];
    const config = await app.post(
      '/ai-configs',
      { name: 'mine', provider: 'deepseek', model: 'deepseek-chat', base_url: `${standIn.url}/v1`, api_key: USER_KEY },
      { token: user.token },
    );
    expect(config.status).toBe(201);
    standIn.configure({ reply: '```python\nprint(1)\n```' });
    const response = await app.post('/ai/generate-code', { prompt: 'One', config_id: config.body.id }, { token: user.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ code: 'print(1)', model: 'deepseek-chat' });
    expect(standIn.requests[0].headers.authorization).toBe(`Bearer ${USER_KEY}`);
    expect(standIn.requests[0].body.model).toBe('deepseek-chat');

    standIn.reset();
    expectError(await app.post('/ai/generate-code', { prompt: 'One', config_id: config.body.id }, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await app.post('/ai/generate-code', { prompt: 'One', config_id: UNKNOWN_ID }, { token: user.token }), 404, 'NOT_FOUND');
    // A model of another provider than the config's.
    expectError(await generate(user.token, { prompt: 'One', config_id: config.body.id }), 400, 'BAD_REQUEST');
    expect(standIn.requests).toHaveLength(0);
  });

  it('refuses bad input (400), no model without config_id (400), an unknown model (404) and anonymous callers (401)', async () => {
    const user = await app.registerUser();
    expectValidation(await generate(user.token, { prompt: '' }), 'prompt');
    expectValidation(await generate(user.token, { prompt: 'x'.repeat(20_001) }), 'prompt');
    expectValidation(await generate(user.token, { prompt: 'x', language: 'ruby' }), 'language');
    expectValidation(await generate(user.token, { prompt: 'x', run: 'yes' }), 'run');
    expectValidation(await generate(user.token, { prompt: 'x', config_id: 'nope' }), 'config_id');
    expectValidation(await generate(user.token, { prompt: 'x', extra: 1 }));
    expectError(await app.post('/ai/generate-code', { prompt: 'x' }, { token: user.token }), 400, 'BAD_REQUEST');
    expectError(await generate(user.token, { prompt: 'x', model: 'no-such-model' }), 404, 'NOT_FOUND');
    expectError(await app.post('/ai/generate-code', { prompt: 'x', model: MODEL }), 401, 'UNAUTHORIZED');
    expect(standIn.requests).toHaveLength(0);
    expect(await usageRows(user.id)).toHaveLength(0);
  });

  it('answers 502 UPSTREAM_ERROR when the provider fails, recording nothing', async () => {
    const user = await app.registerUser();
    standIn.configure({ fail: { status: 500, message: 'boom' } });
    expectError(await generate(user.token, { prompt: 'x' }), 502, 'UPSTREAM_ERROR');
    expect(await usageRows(user.id)).toHaveLength(0);
  });

  it('audits ai.generate_code with the model and language only', async () => {
    const user = await app.registerUser();
    standIn.configure({ reply: '```python\nprint("audit-secret-code")\n```' });
    const response = await generate(user.token, { prompt: 'audit-secret-prompt', language: 'python' });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    const deadline = Date.now() + 3000;
    let rows: any[] = [];
    while (rows.length === 0 && Date.now() < deadline) {
      ({ rows } = await app.query('SELECT action, user_id, metadata::text AS metadata FROM audit_logs WHERE request_id = $1', [requestId]));
      if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(rows[0]).toMatchObject({ action: 'ai.generate_code', user_id: user.id });
    expect(JSON.parse(rows[0].metadata)).toMatchObject({ model: MODEL, language: 'python' });
    expect(rows[0].metadata).not.toContain('audit-secret');
  });
});
