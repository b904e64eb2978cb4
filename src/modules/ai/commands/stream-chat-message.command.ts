import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { AppLogger } from '../../../common/logging/app-logger';
import { ErrorCode } from '../../../common/errors/error-code';
import { ChatExchange, ChatUsage, PreparedExchange } from '../chat-exchange';
import type { ChatInput } from '../chat-exchange';
import { ChatUpstream, isAborted } from '../upstream/chat-upstream';
import type { AiCaller } from '../ai-limits';

/** The events of a streamed reply, in order: content pieces, then done or error. */
export type ChatStreamEvent =
  | { type: 'content'; content: string }
  | { type: 'done'; usage: ChatUsage; conversation_id: string; model: string }
  | { type: 'error'; error: { code: string; message: string } };

/**
 * One chat message with its reply streamed. Everything that can refuse the
 * request (the model, credentials, the conversation) is checked when the
 * command runs, so those answer as plain errors; the returned events then call
 * the model. When the reply is complete, the message, the reply and the usage
 * are stored as by SendChatMessageCommand; a failed call ends with an error
 * event and an aborted one (the client left: `signal`) ends quietly, both
 * storing nothing.
 */
export class StreamChatMessageCommand extends Command<AsyncIterable<ChatStreamEvent>> {
  constructor(
    readonly caller: AiCaller,
    readonly input: ChatInput,
    readonly signal: AbortSignal,
  ) {
    super();
  }
}

@CommandHandler(StreamChatMessageCommand)
export class StreamChatMessageHandler implements ICommandHandler<StreamChatMessageCommand> {
  constructor(
    private readonly exchange: ChatExchange,
    private readonly upstream: ChatUpstream,
    private readonly logger: AppLogger,
  ) {}

  async execute({ caller, input, signal }: StreamChatMessageCommand): Promise<AsyncIterable<ChatStreamEvent>> {
    const prepared = await this.exchange.prepare(caller, input);
    return this.events(prepared, signal);
  }

  private async *events(prepared: PreparedExchange, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    const started = performance.now();
    let content = '';
    try {
      for await (const chunk of this.upstream.stream(prepared.request, signal)) {
        if (chunk.type === 'content') {
          content += chunk.content;
          yield chunk;
        } else {
          const reply = await this.exchange.record(prepared, { content, usage: chunk.usage, model: chunk.model }, performance.now() - started);
          yield { type: 'done', usage: reply.usage, conversation_id: reply.conversation_id, model: reply.model };
          return;
        }
      }
      if (!signal.aborted) yield errorEvent(new AppError(ErrorCode.UPSTREAM_ERROR, 'The model\'s stream ended without its usage'));
    } catch (error) {
      if (signal.aborted || isAborted(error)) return;
      if (!(error instanceof AppError)) this.logger.error(`chat stream failed: ${String(error)}`, (error as Error)?.stack, 'StreamChatMessage');
      yield errorEvent(error);
    }
  }
}

function errorEvent(error: unknown): ChatStreamEvent {
  if (error instanceof AppError) return { type: 'error', error: { code: error.code, message: error.message } };
  return { type: 'error', error: { code: ErrorCode.INTERNAL_ERROR, message: 'Internal error' } };
}
