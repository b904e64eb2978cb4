import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { ChatExchange, ChatInput, ChatReply } from '../chat-exchange';
import { ChatUpstream } from '../upstream/chat-upstream';
import type { AiCaller } from '../ai-limits';

/**
 * One chat message and its reply: the model answers with the conversation's
 * history that fits its context, then the message, the reply and the usage
 * are stored together. A failed call (502 UPSTREAM_ERROR) stores nothing.
 */
export class SendChatMessageCommand extends Command<ChatReply> {
  constructor(
    readonly caller: AiCaller,
    readonly input: ChatInput,
    readonly signal?: AbortSignal,
  ) {
    super();
  }
}

@CommandHandler(SendChatMessageCommand)
export class SendChatMessageHandler implements ICommandHandler<SendChatMessageCommand> {
  constructor(
    private readonly exchange: ChatExchange,
    private readonly upstream: ChatUpstream,
  ) {}

  async execute({ caller, input, signal }: SendChatMessageCommand): Promise<ChatReply> {
    const prepared = await this.exchange.prepare(caller, input);
    const started = performance.now();
    const result = await this.upstream.complete(prepared.request, signal);
    return this.exchange.record(prepared, result, performance.now() - started);
  }
}
