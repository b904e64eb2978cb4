import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { AppError } from '../../src/common/errors/app-error';
import { ErrorCode } from '../../src/common/errors/error-code';
import type { AppConfig } from '../../src/config/app-config';
import { RecordProviderOutcomeCommand } from '../../src/modules/ai-catalog/commands/record-provider-outcome.command';
import { GetProviderCredentialsQuery } from '../../src/modules/ai-catalog/queries/get-provider-credentials.query';
import { ChatUpstream, isAborted, UpstreamChunk, UpstreamRequest } from '../../src/modules/ai/upstream/chat-upstream';
import { AiUpstreamStandIn } from '../support/ai-upstream';
import { TestApp } from '../support/test-app';

const KEY = 'sk-test-SECRET-0123456789';

/** The provider outcomes a ChatUpstream reported (RecordProviderOutcomeCommand), in order. */
const outcomes: Array<{ provider: string; failure: string | null }> = [];
const outcomeRecorder = {
  execute: async (command: RecordProviderOutcomeCommand) => {
    outcomes.push({ provider: command.providerKey, failure: command.failure });
  },
} as unknown as CommandBus;

function upstreamWith(upstreamTimeoutMs = 5000, streamIdleTimeoutMs = 5000): ChatUpstream {
  return new ChatUpstream({ ai: { allowLinkLocalBaseUrls: false, upstreamTimeoutMs, streamIdleTimeoutMs } } as AppConfig, outcomeRecorder);
}

async function collect(chunks: AsyncIterable<UpstreamChunk>): Promise<UpstreamChunk[]> {
  const all: UpstreamChunk[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return all;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

function expectUpstreamError(error: unknown, message?: string | RegExp, status?: number): AppError {
  expect(error).toBeInstanceOf(AppError);
  const appError = error as AppError;
  expect(appError.code).toBe(ErrorCode.UPSTREAM_ERROR);
  expect(appError.status).toBe(502);
  expect(appError.message).toMatch(/^The AI provider failed: /);
  if (message !== undefined) expect(appError.message).toMatch(message);
  if (status !== undefined) expect(appError.details).toEqual({ status });
  expect(JSON.stringify({ message: appError.message, details: appError.details })).not.toContain(KEY);
  expect(isAborted(error)).toBe(false);
  return appError;
}

describe('ChatUpstream against a stand-in provider', () => {
  let standIn: AiUpstreamStandIn;
  const upstream = upstreamWith();

  const styles = {
    openai: (): Pick<UpstreamRequest, 'api_style' | 'base_url'> => ({ api_style: 'openai', base_url: `${standIn.url}/v1` }),
    anthropic: (): Pick<UpstreamRequest, 'api_style' | 'base_url'> => ({ api_style: 'anthropic', base_url: standIn.url }),
  };
  const request = (style: 'openai' | 'anthropic', extra: Partial<UpstreamRequest> = {}): UpstreamRequest => ({
    ...styles[style](),
    api_key: KEY,
    model: 'test-model',
    messages: [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: 'Say hello' },
    ],
    ...extra,
  });

  beforeAll(async () => {
    standIn = await AiUpstreamStandIn.start();
  });
  afterAll(async () => {
    await standIn.close();
  });
  beforeEach(() => {
    standIn.reset();
    outcomes.length = 0;
  });

  describe('openai style', () => {
    it('completes: content, usage, model; the key as a bearer token, the system prompt as the first message', async () => {
      standIn.configure({ reply: 'Hi there', model: 'gpt-served', promptTokens: 21, completionTokens: 4 });
      const result = await upstream.complete(request('openai', { temperature: 0.3, max_tokens: 50 }));
      expect(result).toEqual({ content: 'Hi there', usage: { prompt_tokens: 21, completion_tokens: 4 }, model: 'gpt-served' });
      expect(standIn.requests).toHaveLength(1);
      const [sent] = standIn.requests;
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(sent.body).toMatchObject({
        model: 'test-model',
        temperature: 0.3,
        max_tokens: 50,
        messages: [
          { role: 'system', content: 'You are terse.' },
          { role: 'user', content: 'Say hello' },
        ],
      });
      expect(sent.body.stream).toBeUndefined();
    });

    it('streams the reply in chunks and ends with exactly one done carrying usage and model', async () => {
      standIn.configure({ reply: 'abcdefghij', chunks: 4, promptTokens: 9, completionTokens: 5 });
      const chunks = await collect(upstream.stream(request('openai')));
      const content = chunks.filter((c) => c.type === 'content');
      expect(content.length).toBe(4);
      expect(content.map((c) => (c.type === 'content' ? c.content : '')).join('')).toBe('abcdefghij');
      expect(chunks.filter((c) => c.type === 'done')).toHaveLength(1);
      expect(chunks[chunks.length - 1]).toEqual({ type: 'done', usage: { prompt_tokens: 9, completion_tokens: 5 }, model: 'test-model' });
      expect(standIn.requests[0].body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
      expect(standIn.requests[0].closedEarly).toBe(false);
    });

    it('calls a provider without a key (Ollama, custom) with a placeholder key', async () => {
      const result = await upstream.complete(request('openai', { api_key: null }));
      expect(result.content).toBe('Hello from the stand-in');
      expect(standIn.requests[0].headers.authorization).toMatch(/^Bearer \S+$/);
    });
  });

  describe('anthropic style', () => {
    // @anthropic-ai/sdk 1.x (API version 2026-10-21) sends the key as a bearer token, no longer as x-api-key.
    it('completes: system prompt in `system`, the key as a bearer token, max_tokens defaulted to 1024', async () => {
      standIn.configure({ reply: 'Hello, human', model: 'claude-served', promptTokens: 30, completionTokens: 3 });
      const result = await upstream.complete(request('anthropic', { temperature: 0.5 }));
      expect(result).toEqual({ content: 'Hello, human', usage: { prompt_tokens: 30, completion_tokens: 3 }, model: 'claude-served' });
      const [sent] = standIn.requests;
      expect(sent.path).toBe('/v1/messages');
      expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(sent.headers['anthropic-version']).toEqual(expect.any(String));
      expect(sent.body).toEqual({
        model: 'test-model',
        max_tokens: 1024,
        system: 'You are terse.',
        temperature: 0.5,
        messages: [{ role: 'user', content: 'Say hello' }],
      });
    });

    it('passes a given max_tokens and leaves out an empty system', async () => {
      await upstream.complete(request('anthropic', { max_tokens: 77, messages: [{ role: 'user', content: 'hi' }] }));
      expect(standIn.requests[0].body).toEqual({ model: 'test-model', max_tokens: 77, messages: [{ role: 'user', content: 'hi' }] });
    });

    it('streams the reply and ends with exactly one done carrying usage and model', async () => {
      standIn.configure({ reply: 'The quick brown fox', chunks: 3, promptTokens: 12, completionTokens: 6 });
      const chunks = await collect(upstream.stream(request('anthropic')));
      const content = chunks.filter((c) => c.type === 'content');
      expect(content.length).toBe(3);
      expect(content.map((c) => (c.type === 'content' ? c.content : '')).join('')).toBe('The quick brown fox');
      expect(chunks.filter((c) => c.type === 'done')).toHaveLength(1);
      expect(chunks[chunks.length - 1]).toEqual({ type: 'done', usage: { prompt_tokens: 12, completion_tokens: 6 }, model: 'test-model' });
      expect(standIn.requests[0].body).toMatchObject({ stream: true, system: 'You are terse.' });
      expect(standIn.requests[0].headers.authorization).toBe(`Bearer ${KEY}`);
    });
  });

  describe.each(['openai', 'anthropic'] as const)('failures (%s style)', (style) => {
    it.each([400, 401, 429, 500, 503])('HTTP %i → UPSTREAM_ERROR with the provider message and status, the key scrubbed', async (status) => {
      standIn.configure({ fail: { status, message: `Incorrect API key provided: ${KEY}. Check it.` } });
      const error = await failure(upstream.complete(request(style)));
      const appError = expectUpstreamError(error, /Incorrect API key provided: \[redacted\]\. Check it\./, status);
      expect(appError.message).toBe('The AI provider failed: Incorrect API key provided: [redacted]. Check it.');
      expect(standIn.requests).toHaveLength(1); // no retries
    });

    it('reports outcomes for the provider health of a call with health_provider: successes, 5xx and timeouts; never 4xx or aborts', async () => {
      const tracked = request(style, { health_provider: 'acme' });
      await upstream.complete(tracked);
      await collect(upstream.stream(tracked));
      standIn.configure({ fail: { status: 503, message: `overloaded ${KEY}` } });
      await failure(upstream.complete(tracked));
      await failure(collect(upstream.stream(tracked)));
      standIn.configure({ fail: { status: 401, message: 'bad key' } });
      await failure(upstream.complete(tracked));
      standIn.configure({ stall: 'never' });
      await failure(upstreamWith(200).complete(tracked));
      const controller = new AbortController();
      const pending = failure(upstream.complete(tracked, controller.signal));
      await waitFor(() => standIn.requests.length === 7);
      controller.abort();
      expect(isAborted(await pending)).toBe(true);
      expect(outcomes).toEqual([
        { provider: 'acme', failure: null },
        { provider: 'acme', failure: null },
        { provider: 'acme', failure: 'The AI provider failed: overloaded [redacted]' },
        { provider: 'acme', failure: 'The AI provider failed: overloaded [redacted]' },
        { provider: 'acme', failure: 'The AI provider failed: no reply within 200 ms' },
      ]);
      // Without health_provider (a user's own base_url) nothing is reported.
      standIn.configure();
      outcomes.length = 0;
      await upstream.complete(request(style));
      expect(outcomes).toEqual([]);
    });

    it('an HTTP error on a stream request is an UPSTREAM_ERROR too', async () => {
      standIn.configure({ fail: { status: 503, message: 'overloaded' } });
      expectUpstreamError(await failure(collect(upstream.stream(request(style)))), /overloaded/, 503);
    });

    it('no answer within upstreamTimeoutMs → UPSTREAM_ERROR, and the connection is closed', async () => {
      standIn.configure({ stall: 'never' });
      const started = Date.now();
      expectUpstreamError(await failure(upstreamWith(300).complete(request(style))), /300 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
      await standIn.settled();
      expect(standIn.requests[0].closedEarly).toBe(true);
    });

    it('a stream whose headers never come fails after upstreamTimeoutMs', async () => {
      standIn.configure({ stall: 'never' });
      expectUpstreamError(await failure(collect(upstreamWith(300).stream(request(style)))));
    });

    it('a stream that stalls mid-reply fails after streamIdleTimeoutMs and closes the connection', async () => {
      standIn.configure({ stall: 'mid-stream', chunks: 3 });
      const received: UpstreamChunk[] = [];
      const started = Date.now();
      const error = await failure(
        (async () => {
          for await (const chunk of upstreamWith(5000, 300).stream(request(style))) received.push(chunk);
        })(),
      );
      expectUpstreamError(error, /sent nothing for 300 ms/);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(received.filter((c) => c.type === 'content').length).toBe(1);
      expect(received.some((c) => c.type === 'done')).toBe(false);
      await standIn.settled();
      expect(standIn.requests[0].closedEarly).toBe(true);
    });

    it('a consumer slower than streamIdleTimeoutMs is not an idle provider', async () => {
      standIn.configure({ reply: 'slow reader', chunks: 3 });
      const received: UpstreamChunk[] = [];
      for await (const chunk of upstreamWith(5000, 100).stream(request(style))) {
        received.push(chunk);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      expect(received.map((c) => (c.type === 'content' ? c.content : '')).join('')).toBe('slow reader');
      expect(received[received.length - 1].type).toBe('done');
    });

    it('a malformed frame → UPSTREAM_ERROR', async () => {
      standIn.configure({ malformedFrame: true });
      expectUpstreamError(await failure(collect(upstream.stream(request(style)))), /malformed|JSON/i);
    });

    it('a connection dropped mid-stream → UPSTREAM_ERROR, no done', async () => {
      standIn.configure({ dropMidStream: true });
      const received: UpstreamChunk[] = [];
      const error = await failure(
        (async () => {
          for await (const chunk of upstream.stream(request(style))) received.push(chunk);
        })(),
      );
      expectUpstreamError(error);
      expect(received.some((c) => c.type === 'done')).toBe(false);
    });

    it('a stream that ends cleanly before the reply is complete → UPSTREAM_ERROR', async () => {
      standIn.configure({ truncate: true });
      expectUpstreamError(await failure(collect(upstream.stream(request(style)))), /ended before the reply was complete/);
    });

    it('aborting a completion via the AbortSignal closes the connection and is recognized by isAborted', async () => {
      standIn.configure({ stall: 'never' });
      const controller = new AbortController();
      const pending = failure(upstream.complete(request(style), controller.signal));
      await waitFor(() => standIn.requests.length === 1);
      controller.abort();
      const error = await pending;
      expect(isAborted(error)).toBe(true);
      expect(error).not.toBeInstanceOf(AppError);
      await standIn.settled();
      expect(standIn.requests[0].closedEarly).toBe(true);
    });

    it('aborting a stream mid-reply closes the connection and is recognized by isAborted', async () => {
      standIn.configure({ chunks: 5, chunkDelayMs: 150 });
      const controller = new AbortController();
      const received: UpstreamChunk[] = [];
      const error = await failure(
        (async () => {
          for await (const chunk of upstream.stream(request(style), controller.signal)) {
            received.push(chunk);
            controller.abort();
          }
        })(),
      );
      expect(isAborted(error)).toBe(true);
      expect(error).not.toBeInstanceOf(AppError);
      expect(received.some((c) => c.type === 'done')).toBe(false);
      await standIn.settled();
      expect(standIn.requests[0].closedEarly).toBe(true);
    });

    it('an already aborted signal sends nothing', async () => {
      const controller = new AbortController();
      controller.abort();
      expect(isAborted(await failure(upstream.complete(request(style), controller.signal)))).toBe(true);
      expect(isAborted(await failure(collect(upstream.stream(request(style), controller.signal))))).toBe(true);
      expect(standIn.requests).toHaveLength(0);
    });

    it('a consumer leaving the stream early closes the connection', async () => {
      standIn.configure({ chunks: 5, chunkDelayMs: 150 });
      for await (const chunk of upstream.stream(request(style))) {
        if (chunk.type === 'content') break;
      }
      await standIn.settled();
      expect(standIn.requests[0].closedEarly).toBe(true);
    });
  });

  it.each(['openai', 'anthropic'] as const)('a refused connection → UPSTREAM_ERROR (%s style)', async (style) => {
    const port = await unusedPort();
    const base = style === 'openai' ? `http://127.0.0.1:${port}/v1` : `http://127.0.0.1:${port}`;
    expectUpstreamError(await failure(upstream.complete(request(style, { base_url: base }))));
    expectUpstreamError(await failure(collect(upstream.stream(request(style, { base_url: base })))));
  });
});

describe('GetProviderCredentialsQuery', () => {
  let app: TestApp;
  let admin: string;
  let queries: QueryBus;
  let standIn: AiUpstreamStandIn;

  beforeAll(async () => {
    standIn = await AiUpstreamStandIn.start();
    app = await TestApp.start();
    admin = await app.adminToken();
    queries = app.running.app.get(QueryBus);
  });
  afterAll(async () => {
    await app?.stop();
    await standIn?.close();
  });

  async function createProvider(body: Record<string, unknown>): Promise<{ id: string; provider_key: string }> {
    const providerKey = `up-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`;
    const response = await app.post('/providers', { provider_key: providerKey, display_name: 'Stand-in', ...body }, { token: admin });
    expect(response.status).toBe(201);
    return response.body;
  }

  it('answers an active provider with its platform key opened, and the credentials reach the provider', async () => {
    const key = 'sk-platform-0123456789abcd';
    const provider = await createProvider({ api_style: 'openai', default_base_url: `${standIn.url}/v1`, api_key: key });
    const credentials = await queries.execute(new GetProviderCredentialsQuery(provider.provider_key));
    expect(credentials).toEqual({ api_style: 'openai', base_url: `${standIn.url}/v1`, api_key: key });

    const result = await upstreamWith().complete({ ...credentials!, base_url: credentials!.base_url!, model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(result.content).toBe('Hello from the stand-in');
    expect(standIn.requests[0].headers.authorization).toBe(`Bearer ${key}`);
  });

  it('answers null api_key for a provider without one, and the seeded providers by key', async () => {
    const provider = await createProvider({ api_style: 'anthropic' });
    expect(await queries.execute(new GetProviderCredentialsQuery(provider.provider_key))).toEqual({ api_style: 'anthropic', base_url: null, api_key: null });
    expect(await queries.execute(new GetProviderCredentialsQuery('anthropic'))).toMatchObject({ api_style: 'anthropic', base_url: 'https://api.anthropic.com' });
  });

  it('answers null for an inactive provider, an unknown key and a key no provider can have', async () => {
    const provider = await createProvider({ api_style: 'openai', api_key: 'sk-gone-0123456789abcd' });
    await app.delete(`/providers/${provider.id}`, { token: admin });
    expect(await queries.execute(new GetProviderCredentialsQuery(provider.provider_key))).toBeNull();
    expect(await queries.execute(new GetProviderCredentialsQuery('nobody'))).toBeNull();
    expect(await queries.execute(new GetProviderCredentialsQuery('bad\u0000key'))).toBeNull();
  });

  it('refuses a platform key that cannot be opened with UNPROCESSABLE, not a wrong key', async () => {
    const provider = await createProvider({ api_style: 'openai', api_key: 'sk-broken-0123456789abcd' });
    await app.query(`UPDATE ai_providers SET api_key_sealed = 'v1:deadbeef:AAAA:AAAA:AAAA' WHERE id = $1`, [provider.id]);
    const error = await failure(queries.execute(new GetProviderCredentialsQuery(provider.provider_key)));
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCode.UNPROCESSABLE);
    expect((error as AppError).details).toEqual({ provider_key: provider.provider_key, field: 'api_key' });
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
