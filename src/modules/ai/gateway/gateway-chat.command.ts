import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import type { ModelInfo } from '../../ai-catalog/queries/get-model.query';
import { ChatExchange, costOf } from '../chat-exchange';
import { ChatTurn, ChatUpstream, UpstreamRequest, UpstreamUsage } from '../upstream/chat-upstream';
import { UsageRepository } from '../repositories/usage.repository';
import { AiPlanLimits } from '../ai-plan-limits';

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

interface PreparedCall {
  userId: string;
  model: ModelInfo;
  request: UpstreamRequest;
}

/**
 * The model and the credentials for a gateway call, by the same rule as
 * /ai/chat (ChatExchange.prepare: the model must be active, the caller's active
 * config of its provider, else the platform key, else 400). prepare is asked
 * for a new conversation with an empty message, which reads and writes no
 * conversation; the caller's messages then replace the prepared ones. The
 * reply's budget is the caller's max_tokens, else chat's (the config's or the
 * default, at most half the model's context); temperature likewise.
 */
@Injectable()
export class GatewayCalls {
  constructor(
    private readonly exchange: ChatExchange,
    private readonly usage: UsageRepository,
    private readonly limits: AiPlanLimits,
  ) {}

  /** Also checks the caller's plan's AI limits (AiPlanLimits), after the model and credentials. */
  async prepare(userId: string, input: GatewayChatInput): Promise<PreparedCall> {
    let prepared;
    try {
      prepared = await this.exchange.prepare(userId, { model: input.model, message: '' });
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.NOT_FOUND) {
        throw new AppError(ErrorCode.NOT_FOUND, `The model '${input.model}' does not exist or is not active`);
      }
      throw error;
    }
    await this.limits.check(userId);
    const temperature = input.temperature ?? prepared.request.temperature;
    return {
      userId,
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
    await this.usage.record({
      userId: call.userId,
      model: call.model.model_name,
      provider: call.model.provider,
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      cost: costOf(call.model, usage.prompt_tokens, usage.completion_tokens),
    });
  }
}

/** One OpenAI-style chat completion, answered whole; its usage is recorded, nothing else is stored. */
export class GatewayCompleteCommand extends Command<GatewayCompletion> {
  constructor(
    readonly userId: string,
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

  async execute({ userId, input, signal }: GatewayCompleteCommand): Promise<GatewayCompletion> {
    const call = await this.calls.prepare(userId, input);
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
    readonly userId: string,
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

  async execute({ userId, input, signal }: GatewayStreamCommand): Promise<AsyncIterable<GatewayStreamEvent>> {
    const call = await this.calls.prepare(userId, input);
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
