import { Anthropic, APIError as AnthropicApiError, APIConnectionTimeoutError as AnthropicTimeoutError } from '@anthropic-ai/sdk';
import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { OpenAI, APIError as OpenAiApiError, APIConnectionTimeoutError as OpenAiTimeoutError } from 'openai';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { RecordProviderOutcomeCommand } from '../../ai-catalog/commands/record-provider-outcome.command';

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}
export interface UpstreamTarget {
  api_style: 'openai' | 'anthropic';
  base_url: string;
  api_key: string | null;
  model: string;
}
export interface UpstreamRequest extends UpstreamTarget {
  /**
   * The catalog provider whose health (AI failover) this call's outcome counts
   * toward: set when the call goes to the provider's own endpoint, null or
   * absent when it goes to a user's own base_url.
   */
  health_provider?: string | null;
  messages: ChatTurn[];
  temperature?: number;
  max_tokens?: number;
}
export interface UpstreamUsage {
  prompt_tokens: number;
  completion_tokens: number;
}
export interface UpstreamResult {
  content: string;
  usage: UpstreamUsage;
  model: string;
}
export type UpstreamChunk = { type: 'content'; content: string } | { type: 'done'; usage: UpstreamUsage; model: string };

/** What Anthropic requires and the caller did not give. */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 1024;

/** Sent as the key to a provider called without one (Ollama, a local server): the SDKs insist on some key. */
const NO_KEY_PLACEHOLDER = 'no-key';

/** Thrown when the caller's AbortSignal ended the call: not an upstream failure. */
export class UpstreamAbortedError extends Error {
  constructor() {
    super('The AI request was aborted');
    this.name = 'AbortError';
  }
}

/** Whether an error from ChatUpstream means the caller's AbortSignal ended the call (not an upstream failure). */
export function isAborted(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === 'AbortError';
}

/** Removes every occurrence of the key from a text bound for an error message, details or a log. */
export function scrubSecret(text: string, secret: string | null): string {
  if (!secret) return text;
  return text.split(secret).join('[redacted]');
}

type StopCause = 'caller' | 'deadline' | 'idle' | 'consumer';

/**
 * One call's abort controller: follows the caller's signal, and can be aborted
 * by a whole-call deadline or a stream's idle timer; remembers which came first.
 */
class CallGuard {
  private readonly controller = new AbortController();
  private deadlineTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  cause: StopCause | null = null;

  constructor(private readonly caller: AbortSignal | undefined) {
    if (caller?.aborted) this.stop('caller');
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Whether the caller asked to stop (their signal, or leaving a stream early). */
  get callerStopped(): boolean {
    return this.cause === 'caller' || this.cause === 'consumer' || this.caller?.aborted === true;
  }

  startDeadline(ms: number): void {
    this.deadlineTimer = setTimeout(() => this.stop('deadline'), ms);
  }

  /** (Re)arms the idle timer: the call is aborted when it is not touched again within `ms`. */
  touchIdle(ms: number): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.stop('idle'), ms);
  }

  /** Stops the idle timer while the consumer holds a chunk: a slow reader is not a silent provider. */
  pauseIdle(): void {
    clearTimeout(this.idleTimer);
  }

  stop(cause: StopCause): void {
    if (this.cause === null) this.cause = cause;
    this.controller.abort();
  }

  dispose(): void {
    clearTimeout(this.deadlineTimer);
    clearTimeout(this.idleTimer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }

  private readonly onCallerAbort = (): void => this.stop('caller');
}

/**
 * Calls an AI provider's chat API with its official SDK: `openai` for every
 * OpenAI-compatible provider (OpenAI, Qwen, SiliconFlow, DeepSeek, Ollama,
 * custom), `@anthropic-ai/sdk` for Anthropic's Messages API. No retries.
 *
 * Every upstream failure (HTTP error, timeout, lost connection, malformed
 * reply or stream) is an AppError UPSTREAM_ERROR (502) whose message and
 * details never contain the API key. The caller's AbortSignal ending the call
 * is not a failure: it rejects with an error `isAborted` recognizes, and the
 * connection to the provider is closed.
 *
 * A call with a `health_provider` reports its outcome to the catalog
 * (RecordProviderOutcomeCommand): a complete reply is a success; a 5xx, a
 * timeout, a lost connection or a broken reply is the provider's failure; a
 * 4xx (the caller's key or request) and an abort are neither.
 */
@Injectable()
export class ChatUpstream {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly commands: CommandBus,
  ) {}

  async complete(request: UpstreamRequest, signal?: AbortSignal): Promise<UpstreamResult> {
    const guard = new CallGuard(signal);
    guard.startDeadline(this.config.ai.upstreamTimeoutMs);
    try {
      if (guard.cause !== null) throw new UpstreamAbortedError();
      const result =
        request.api_style === 'anthropic' ? await this.completeAnthropic(request, guard.signal) : await this.completeOpenAi(request, guard.signal);
      await this.report(request, null);
      return result;
    } catch (error) {
      throw await this.failed(error, guard, request);
    } finally {
      guard.dispose();
    }
  }

  async *stream(request: UpstreamRequest, signal?: AbortSignal): AsyncIterable<UpstreamChunk> {
    const guard = new CallGuard(signal);
    let finished = false;
    try {
      if (guard.cause !== null) throw new UpstreamAbortedError();
      const chunks = request.api_style === 'anthropic' ? this.streamAnthropic(request, guard) : this.streamOpenAi(request, guard);
      for await (const chunk of chunks) {
        if (chunk.type === 'done') await this.report(request, null);
        // A consumer that stops listening leaves the generator at this yield; finally closes the connection.
        yield chunk;
      }
      finished = true;
    } catch (error) {
      throw await this.failed(error, guard, request);
    } finally {
      if (!finished && guard.cause === null) guard.stop('consumer');
      guard.dispose();
    }
  }

  private openAiClient(request: UpstreamRequest): OpenAI {
    return new OpenAI({
      baseURL: request.base_url,
      apiKey: request.api_key ?? NO_KEY_PLACEHOLDER,
      organization: null,
      project: null,
      maxRetries: 0,
      timeout: this.config.ai.upstreamTimeoutMs,
      logLevel: 'off',
    });
  }

  private anthropicClient(request: UpstreamRequest): Anthropic {
    return new Anthropic({
      baseURL: request.base_url,
      apiKey: request.api_key ?? NO_KEY_PLACEHOLDER,
      authToken: null,
      maxRetries: 0,
      timeout: this.config.ai.upstreamTimeoutMs,
      logLevel: 'off',
    });
  }

  private openAiBody(request: UpstreamRequest) {
    return {
      model: request.model,
      messages: request.messages.map((turn) => ({ role: turn.role, content: turn.content })),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.max_tokens !== undefined ? { max_tokens: request.max_tokens } : {}),
    };
  }

  /** System turns go to `system`, joined; the rest stay in order. */
  private anthropicBody(request: UpstreamRequest) {
    const system = request.messages
      .filter((turn) => turn.role === 'system')
      .map((turn) => turn.content)
      .join('\n\n');
    const messages = request.messages
      .filter((turn): turn is ChatTurn & { role: 'user' | 'assistant' } => turn.role !== 'system')
      .map((turn) => ({ role: turn.role, content: turn.content }));
    return {
      model: request.model,
      max_tokens: request.max_tokens ?? ANTHROPIC_DEFAULT_MAX_TOKENS,
      messages,
      ...(system !== '' ? { system } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    };
  }

  private async completeOpenAi(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResult> {
    const response = await this.openAiClient(request).chat.completions.create(this.openAiBody(request), { signal });
    if (!response || !Array.isArray(response.choices)) throw malformed('the reply has no choices');
    return {
      content: response.choices[0]?.message?.content ?? '',
      usage: { prompt_tokens: response.usage?.prompt_tokens ?? 0, completion_tokens: response.usage?.completion_tokens ?? 0 },
      model: response.model || request.model,
    };
  }

  private async completeAnthropic(request: UpstreamRequest, signal: AbortSignal): Promise<UpstreamResult> {
    const response = await this.anthropicClient(request).messages.create(this.anthropicBody(request), { signal });
    if (!response || !Array.isArray(response.content)) throw malformed('the reply has no content');
    const content = response.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
    return {
      content,
      usage: { prompt_tokens: response.usage?.input_tokens ?? 0, completion_tokens: response.usage?.output_tokens ?? 0 },
      model: response.model || request.model,
    };
  }

  private async *streamOpenAi(request: UpstreamRequest, guard: CallGuard): AsyncGenerator<UpstreamChunk> {
    const idleMs = this.config.ai.streamIdleTimeoutMs;
    const stream = await this.openAiClient(request).chat.completions.create(
      { ...this.openAiBody(request), stream: true, stream_options: { include_usage: true } },
      { signal: guard.signal },
    );
    guard.touchIdle(idleMs);
    let model = '';
    let usage: UpstreamUsage = { prompt_tokens: 0, completion_tokens: 0 };
    let finishedReply = false;
    for await (const chunk of stream) {
      guard.touchIdle(idleMs);
      if (typeof chunk !== 'object' || chunk === null) throw malformed('a stream chunk is not an object');
      if (!model && typeof chunk.model === 'string') model = chunk.model;
      if (chunk.usage) usage = { prompt_tokens: chunk.usage.prompt_tokens ?? 0, completion_tokens: chunk.usage.completion_tokens ?? 0 };
      const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
      if (choice?.finish_reason) finishedReply = true;
      const text = choice?.delta?.content;
      if (typeof text === 'string' && text !== '') {
        guard.pauseIdle();
        yield { type: 'content', content: text };
        guard.touchIdle(idleMs);
      }
    }
    // A stream cut short without an error (the connection closed cleanly mid-reply) has no finish_reason.
    if (!finishedReply) throw malformed('the stream ended before the reply was complete');
    guard.pauseIdle();
    yield { type: 'done', usage, model: model || request.model };
  }

  private async *streamAnthropic(request: UpstreamRequest, guard: CallGuard): AsyncGenerator<UpstreamChunk> {
    const idleMs = this.config.ai.streamIdleTimeoutMs;
    const stream = await this.anthropicClient(request).messages.create({ ...this.anthropicBody(request), stream: true }, { signal: guard.signal });
    guard.touchIdle(idleMs);
    let model = '';
    let promptTokens = 0;
    let completionTokens = 0;
    let stopped = false;
    for await (const event of stream) {
      guard.touchIdle(idleMs);
      if (typeof event !== 'object' || event === null) throw malformed('a stream event is not an object');
      switch (event.type) {
        case 'message_start':
          model = event.message?.model ?? '';
          promptTokens = event.message?.usage?.input_tokens ?? 0;
          completionTokens = event.message?.usage?.output_tokens ?? 0;
          break;
        case 'content_block_delta':
          if (event.delta?.type === 'text_delta' && event.delta.text !== '') {
            guard.pauseIdle();
            yield { type: 'content', content: event.delta.text };
            guard.touchIdle(idleMs);
          }
          break;
        case 'message_delta':
          // Counts here are cumulative.
          if (typeof event.usage?.output_tokens === 'number') completionTokens = event.usage.output_tokens;
          if (typeof event.usage?.input_tokens === 'number') promptTokens = event.usage.input_tokens;
          break;
        case 'message_stop':
          stopped = true;
          break;
        default:
          break;
      }
    }
    if (!stopped) throw malformed('the stream ended before the reply was complete');
    guard.pauseIdle();
    yield { type: 'done', usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens }, model: model || request.model };
  }

  /** The error a failed call throws (translate), reported to the provider's health when it is the provider's failure. */
  private async failed(error: unknown, guard: CallGuard, request: UpstreamRequest): Promise<Error> {
    const translated = this.translate(error, guard, request.api_key);
    if (translated instanceof AppError && isProviderFailure(translated)) await this.report(request, translated.message);
    return translated;
  }

  private async report(request: UpstreamRequest, failure: string | null): Promise<void> {
    if (request.health_provider) await this.commands.execute(new RecordProviderOutcomeCommand(request.health_provider, failure));
  }

  /** Any failure of a call as what the caller sees: an abort they asked for, or UPSTREAM_ERROR without the key. */
  private translate(error: unknown, guard: CallGuard, apiKey: string | null): Error {
    if (guard.callerStopped) return new UpstreamAbortedError();
    if (guard.cause === 'deadline') return upstreamError(`no reply within ${this.config.ai.upstreamTimeoutMs} ms`, undefined, apiKey);
    if (guard.cause === 'idle') return upstreamError(`the stream sent nothing for ${this.config.ai.streamIdleTimeoutMs} ms`, undefined, apiKey);
    if (error instanceof AppError) return upstreamError(error.message.replace(/^The AI provider failed: /, ''), undefined, apiKey);
    if (error instanceof OpenAiTimeoutError || error instanceof AnthropicTimeoutError) {
      return upstreamError(`no reply within ${this.config.ai.upstreamTimeoutMs} ms`, undefined, apiKey);
    }
    if ((error instanceof OpenAiApiError || error instanceof AnthropicApiError) && typeof error.status === 'number') {
      return upstreamError(providerMessage(error), error.status, apiKey);
    }
    if (error instanceof OpenAiApiError || error instanceof AnthropicApiError) {
      // APIConnectionError: the cause says what happened (refused, reset, DNS…).
      return upstreamError(`${error.message} ${causeText(error)}`.trim(), undefined, apiKey);
    }
    if (error instanceof SyntaxError) return upstreamError(`malformed reply: ${error.message}`, undefined, apiKey);
    if (error instanceof Error) return upstreamError(`${error.message} ${causeText(error)}`.trim(), undefined, apiKey);
    return upstreamError(String(error), undefined, apiKey);
  }
}

/** Whether an UPSTREAM_ERROR is the provider's (5xx, or no HTTP answer at all: timeout, lost connection, broken reply), not the caller's (4xx). */
function isProviderFailure(error: AppError): boolean {
  if (error.code !== ErrorCode.UPSTREAM_ERROR) return false;
  const status = (error.details as { status?: unknown } | undefined)?.status;
  return typeof status !== 'number' || status >= 500;
}

function malformed(what: string): AppError {
  return new AppError(ErrorCode.UPSTREAM_ERROR, `The AI provider failed: malformed reply: ${what}`);
}

function upstreamError(message: string, status: number | undefined, apiKey: string | null): AppError {
  return new AppError(
    ErrorCode.UPSTREAM_ERROR,
    `The AI provider failed: ${scrubSecret(message, apiKey)}`,
    status !== undefined ? { status } : undefined,
  );
}

/** The provider's own error text: OpenAI's `{error: {message}}`, Anthropic's `{type: 'error', error: {message}}`, else the SDK's. */
function providerMessage(error: OpenAiApiError | AnthropicApiError): string {
  const body = error.error as { message?: unknown; error?: { message?: unknown } } | undefined;
  const message = body?.message ?? body?.error?.message;
  if (typeof message === 'string' && message !== '') return message;
  return error.message.replace(/^\d{3}\s+/, '') || `HTTP ${error.status}`;
}

function causeText(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  if (!(cause instanceof Error)) return '';
  const inner = (cause as { cause?: unknown }).cause;
  return `(${cause.message}${inner instanceof Error ? `: ${inner.message}` : ''})`;
}
