import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the stand-in answers the next requests (until configured again). */
export interface AiUpstreamBehavior {
  /** The reply text. */
  reply: string;
  /** Streamed replies: how many content chunks the text is split into. */
  chunks: number;
  /** Streamed replies: ms to wait before each chunk. */
  chunkDelayMs: number;
  /** The model named in replies; the request's model when unset. */
  model?: string;
  promptTokens: number;
  completionTokens: number;
  /** Answer with this status and the provider's error JSON carrying `message`. */
  fail?: { status: number; message: string };
  /** `never`: accept the request and never answer; `mid-stream`: send headers and the first chunk, then nothing. */
  stall?: 'never' | 'mid-stream';
  /** Streamed replies: destroy the socket after the first chunk. */
  dropMidStream?: boolean;
  /** Streamed replies: send a frame that is not JSON after the first chunk. */
  malformedFrame?: boolean;
  /** Streamed replies: end cleanly after the first chunk, without the final events. */
  truncate?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** Whether the client closed the connection before the reply was complete. */
  closedEarly: boolean;
}

const DEFAULTS: AiUpstreamBehavior = {
  reply: 'Hello from the stand-in',
  chunks: 3,
  chunkDelayMs: 0,
  promptTokens: 11,
  completionTokens: 7,
};

/**
 * A local stand-in for AI providers: OpenAI's `POST /v1/chat/completions` and
 * Anthropic's `POST /v1/messages`, JSON or SSE, with failures on demand.
 * OpenAI-style base_url: `${url}/v1`; Anthropic-style: `url`.
 */
export class AiUpstreamStandIn {
  readonly requests: RecordedRequest[] = [];
  private behavior: AiUpstreamBehavior = { ...DEFAULTS };
  private readonly open = new Set<ServerResponse>();

  private readonly server: Server = createServer((req, res) => void this.handle(req, res));
  private address = '';

  private constructor() {}

  /** `http://127.0.0.1:<port>` */
  get url(): string {
    return this.address;
  }

  static async start(): Promise<AiUpstreamStandIn> {
    const standIn = new AiUpstreamStandIn();
    await new Promise<void>((resolve) => standIn.server.listen(0, '127.0.0.1', resolve));
    const { port } = standIn.server.address() as AddressInfo;
    standIn.address = `http://127.0.0.1:${port}`;
    return standIn;
  }

  /** Sets how the next requests are answered; what is not given goes back to the defaults. */
  configure(behavior: Partial<AiUpstreamBehavior> = {}): void {
    this.behavior = { ...DEFAULTS, ...behavior };
  }

  /** Forgets recorded requests and resets the behavior. */
  reset(): void {
    this.requests.length = 0;
    this.configure();
  }

  /** Resolves once the last recorded request's exchange is over (answered or closed). */
  async settled(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.open.size > 0 && Date.now() < deadline) await sleep(10);
  }

  async close(): Promise<void> {
    for (const res of this.open) res.socket?.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      // recorded as {}
    }
    const path = (req.url ?? '').split('?')[0];
    const record: RecordedRequest = { method: req.method ?? '', path, headers: req.headers, body, closedEarly: false };
    this.requests.push(record);
    this.open.add(res);
    let complete = false;
    res.on('close', () => {
      if (!complete) record.closedEarly = true;
      this.open.delete(res);
    });
    const finish = (): void => {
      complete = true;
      res.end();
    };
    const b = this.behavior;
    const style = path === '/v1/chat/completions' ? 'openai' : path === '/v1/messages' ? 'anthropic' : null;
    if (req.method !== 'POST' || style === null) {
      complete = true;
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'no such route' } }));
      return;
    }
    if (b.stall === 'never') return;
    if (b.fail) {
      complete = true;
      const payload =
        style === 'openai'
          ? { error: { message: b.fail.message, type: 'invalid_request_error', param: null, code: null } }
          : { type: 'error', error: { type: 'invalid_request_error', message: b.fail.message } };
      res.writeHead(b.fail.status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      return;
    }
    const model = b.model ?? (typeof body.model === 'string' ? body.model : 'stand-in-model');
    if (body.stream !== true) {
      complete = true;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(style === 'openai' ? openAiReply(b, model) : anthropicReply(b, model)));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const frames = style === 'openai' ? openAiFrames(b, model) : anthropicFrames(b, model);
    let contentSent = 0;
    for (const frame of frames) {
      if (res.destroyed) return;
      if (frame.content) {
        if (contentSent === 1) {
          if (b.stall === 'mid-stream') return;
          if (b.dropMidStream) {
            res.socket?.destroy();
            return;
          }
          if (b.malformedFrame) {
            res.write(style === 'openai' ? 'data: {"this is": not json\n\n' : 'event: content_block_delta\ndata: {"this is": not json\n\n');
            finish();
            return;
          }
          if (b.truncate) {
            finish();
            return;
          }
        }
        if (b.chunkDelayMs > 0) await sleep(b.chunkDelayMs);
        if (res.destroyed) return;
        contentSent++;
      }
      res.write(frame.text);
    }
    finish();
  }
}

interface Frame {
  text: string;
  /** Whether the frame carries a piece of the reply. */
  content: boolean;
}

function split(text: string, parts: number): string[] {
  const n = Math.max(1, Math.min(parts, text.length || 1));
  const size = Math.ceil(text.length / n);
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces.length > 0 ? pieces : [''];
}

function openAiReply(b: AiUpstreamBehavior, model: string) {
  return {
    id: 'chatcmpl-standin',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: b.reply }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: b.promptTokens, completion_tokens: b.completionTokens, total_tokens: b.promptTokens + b.completionTokens },
  };
}

function anthropicReply(b: AiUpstreamBehavior, model: string) {
  return {
    id: 'msg_standin',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: b.reply }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: b.promptTokens, output_tokens: b.completionTokens },
  };
}

function openAiFrames(b: AiUpstreamBehavior, model: string): Frame[] {
  const base = { id: 'chatcmpl-standin', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model };
  const data = (payload: unknown): string => `data: ${JSON.stringify(payload)}\n\n`;
  const frames: Frame[] = [{ text: data({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }), content: false }];
  for (const piece of split(b.reply, b.chunks)) {
    frames.push({ text: data({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] }), content: true });
  }
  frames.push({ text: data({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }), content: false });
  frames.push({
    text: data({ ...base, choices: [], usage: { prompt_tokens: b.promptTokens, completion_tokens: b.completionTokens, total_tokens: b.promptTokens + b.completionTokens } }),
    content: false,
  });
  frames.push({ text: 'data: [DONE]\n\n', content: false });
  return frames;
}

function anthropicFrames(b: AiUpstreamBehavior, model: string): Frame[] {
  const event = (type: string, payload: Record<string, unknown>): string => `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
  const frames: Frame[] = [
    {
      text: event('message_start', {
        message: {
          id: 'msg_standin', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null,
          usage: { input_tokens: b.promptTokens, output_tokens: 1 },
        },
      }),
      content: false,
    },
    { text: event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }), content: false },
    { text: 'event: ping\ndata: {"type": "ping"}\n\n', content: false },
  ];
  for (const piece of split(b.reply, b.chunks)) {
    frames.push({ text: event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: piece } }), content: true });
  }
  frames.push({ text: event('content_block_stop', { index: 0 }), content: false });
  frames.push({
    text: event('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: b.completionTokens } }),
    content: false,
  });
  frames.push({ text: event('message_stop', {}), content: false });
  return frames;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
