import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import type { AiCaller } from '../ai-limits';
import { ChatExchange, PreparedCall } from '../chat-exchange';
import { ChatTurn, ChatUpstream, UpstreamUsage } from '../upstream/chat-upstream';

/** What an OpenAI-style chat request asks for (the request DTO matches it). */
export interface GatewayChatInput {
  model: string;
  messages: ChatTurn[];
  temperature?: number | null;
  max_tokens?: number | null;
}

export interface GatewayCompletion {
  content: string;
  usage: UpstreamUsage;
}

export type GatewayStreamEvent = { type: 'content'; content: string } | { type: 'done'; usage: UpstreamUsage };

/**
 * The model and the credentials for a gateway call, by the same rule as
 * /ai/chat (ChatExchange.prepare: the model must be active, the caller's
 * limits allow the call, the provider by failover order with the caller's
 * active config of it, else the platform key, else 400). prepare is asked
 * for a new conversation with an empty message, which reads and writes no
 * conversation; the caller's messages then replace the prepared ones. The
 * reply's budget is the caller's max_tokens, else chat's (the config's or the
 * default, at most half the model's context); temperature likewise.
 */
@Injectable()
export class GatewayCalls {
  constructor(private readonly exchange: ChatExchange) {}

  async prepare(caller: AiCaller, input: GatewayChatInput): Promise<PreparedCall> {
    let prepared;
    try {
      prepared = await this.exchange.prepare(caller, { model: input.model, message: '' });
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.NOT_FOUND) {
        throw new AppError(ErrorCode.NOT_FOUND, `The model '${input.model}' does not exist or is not active`);
      }
      throw error;
    }
    const temperature = input.temperature ?? prepared.request.temperature;
    return {
      caller,
      model: prepared.model,
      request: {
        ...prepared.request,
        messages: input.messages.map((turn) => ({ role: turn.role, content: turn.content })),
        ...(temperature !== undefined && { temperature }),
        max_tokens: input.max_tokens ?? prepared.request.max_tokens,
      },
    };
  }

  /** The usage row, with its cost from the model's prices. */
  async record(call: PreparedCall, usage: UpstreamUsage): Promise<void> {
    await this.exchange.recordCall(call, usage);
  }
}

/** One OpenAI-style chat completion, answered whole; its usage is recorded, nothing else is stored. */
export class GatewayCompleteCommand extends Command<GatewayCompletion> {
  constructor(
    readonly caller: AiCaller,
    readonly input: GatewayChatInput,
    readonly signal?: AbortSignal,
  ) {
    super();
  }
}

@CommandHandler(GatewayCompleteCommand)
export class GatewayCompleteHandler implements ICommandHandler<GatewayCompleteCommand> {
  constructor(
    private readonly calls: GatewayCalls,
    private readonly upstream: ChatUpstream,
  ) {}

  async execute({ caller, input, signal }: GatewayCompleteCommand): Promise<GatewayCompletion> {
    const call = await this.calls.prepare(caller, input);
    const result = await this.upstream.complete(call.request, signal);
    await this.calls.record(call, result.usage);
    return { content: result.content, usage: result.usage };
  }
}

/**
 * One OpenAI-style chat completion, streamed. What can refuse the request (the
 * model, the credentials) is checked when the command runs; the returned
 * events then call the model. The usage is recorded once the reply is
 * complete. A failed call throws from the events (UPSTREAM_ERROR); an aborted
 * one (`signal`: the client left) ends them quietly, recording nothing.
 */
export class GatewayStreamCommand extends Command<AsyncIterable<GatewayStreamEvent>> {
  constructor(
    readonly caller: AiCaller,
    readonly input: GatewayChatInput,
    readonly signal: AbortSignal,
  ) {
    super();
  }
}

@CommandHandler(GatewayStreamCommand)
export class GatewayStreamHandler implements ICommandHandler<GatewayStreamCommand> {
  constructor(
    private readonly calls: GatewayCalls,
    private readonly upstream: ChatUpstream,
  ) {}

  async execute({ caller, input, signal }: GatewayStreamCommand): Promise<AsyncIterable<GatewayStreamEvent>> {
    const call = await this.calls.prepare(caller, input);
    return this.events(call, signal);
  }

  private async *events(call: PreparedCall, signal: AbortSignal): AsyncIterable<GatewayStreamEvent> {
    for await (const chunk of this.upstream.stream(call.request, signal)) {
      if (chunk.type === 'content') {
        yield chunk;
      } else {
        await this.calls.record(call, chunk.usage);
        yield { type: 'done', usage: chunk.usage };
        return;
      }
    }
    if (!signal.aborted) throw new AppError(ErrorCode.UPSTREAM_ERROR, 'The model\'s stream ended without its usage');
  }
}
