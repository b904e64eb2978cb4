import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { DataSource } from 'typeorm';
import type { ModelInfo } from '../ai-catalog/queries/get-model.query';
import { GetProviderCredentialsQuery } from '../ai-catalog/queries/get-provider-credentials.query';
import type { ProviderInfo } from '../ai-catalog/queries/get-provider.query';
import { ListModelOfferingsQuery } from '../ai-catalog/queries/list-model-offerings.query';
import { AiCaller, AiLimits } from './ai-limits';
import { DEFAULT_MAX_TOKENS } from './commands/create-ai-config.command';
import { ResolveAiCredentialsQuery } from './queries/resolve-ai-credentials.query';
import { ConversationRepository } from './repositories/conversation.repository';
import { UsageRepository } from './repositories/usage.repository';
import type { UpstreamRequest, UpstreamResult, UpstreamUsage } from './upstream/chat-upstream';

/** What a chat message asks for (the request DTO implements it). */
export interface ChatInput {
  message: string;
  model: string;
  conversation_id?: string;
  system_prompt?: string;
}

/** A call ready to send: checked against the caller's limits, with the model and the request to its provider. */
export interface PreparedCall {
  caller: AiCaller;
  model: ModelInfo;
  request: UpstreamRequest;
}

/** A chat exchange ready to send: a call, with its conversation and the history that fits. */
export interface PreparedExchange extends PreparedCall {
  conversationId: string;
  isNew: boolean;
  message: string;
}

/** Where a call goes and with what: a provider's endpoint, the key, and the caller's config settings. */
interface CallTarget {
  api_style: 'openai' | 'anthropic';
  base_url: string;
  api_key: string | null;
  /** The provider whose health this call counts toward; null when it goes to a user's own base_url. */
  health_provider: string | null;
  temperature?: number;
  max_tokens?: number;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** USD, six decimals. */
  cost: number;
}

export interface ChatReply {
  conversation_id: string;
  response: string;
  model: string;
  usage: ChatUsage;
  timestamp: Date;
}

export const TITLE_LENGTH = 80;

/** Tokens of a text as the history trimming estimates them: a token per 4 characters. */
export const estimateTokens = (text: string): number => Math.ceil(text.length / 4);

/** USD for a call: prompt/1000 × input price + completion/1000 × output price, to six decimals. */
export function costOf(model: Pick<ModelInfo, 'input_price_per_1k' | 'output_price_per_1k'>, promptTokens: number, completionTokens: number): number {
  const cost = (promptTokens / 1000) * model.input_price_per_1k + (completionTokens / 1000) * model.output_price_per_1k;
  return Math.round(cost * 1e6) / 1e6;
}

/**
 * The two ends of an AI call, shared by the chat (plain and streamed), code
 * generation and the gateway: before the call (the model, the caller's limits,
 * the provider and credentials, for the chat the conversation and the history
 * that fits the model's context) and after it (the usage, and for the chat the
 * user's message and the reply, written in one transaction). Nothing is
 * written before the call succeeds, so a failed or aborted call leaves no
 * trace.
 */
@Injectable()
export class ChatExchange {
  constructor(
    private readonly queries: QueryBus,
    private readonly dataSource: DataSource,
    private readonly conversations: ConversationRepository,
    private readonly usage: UsageRepository,
    private readonly limits: AiLimits,
  ) {}

  async prepare(caller: AiCaller, input: ChatInput): Promise<PreparedExchange> {
    const { model, target } = await this.route(caller, input.model);

    let isNew = true;
    let conversationId: string = randomUUID();
    if (input.conversation_id !== undefined) {
      // Only the caller's own conversations are continued, an admin's included.
      if ((await this.conversations.ownerOf(input.conversation_id.toLowerCase())) !== caller.userId) throw AppError.notFound('Conversation');
      conversationId = input.conversation_id.toLowerCase();
      isNew = false;
    }

    // The reply's budget: the config's max_tokens (or the default), at most half the model's context.
    const replyBudget = Math.max(1, Math.min(target.max_tokens ?? DEFAULT_MAX_TOKENS, Math.floor(model.max_tokens / 2)));
    const system = input.system_prompt ? [{ role: 'system' as const, content: input.system_prompt }] : [];
    const fixed = estimateTokens(input.message) + (input.system_prompt ? estimateTokens(input.system_prompt) : 0);
    const history = isNew ? [] : await this.conversations.history(conversationId, model.max_tokens - replyBudget - fixed);

    return {
      caller,
      conversationId,
      isNew,
      message: input.message,
      model,
      request: {
        api_style: target.api_style,
        base_url: target.base_url,
        api_key: target.api_key,
        health_provider: target.health_provider,
        model: model.model_name,
        messages: [...system, ...history, { role: 'user', content: input.message }],
        ...(target.temperature !== undefined && { temperature: target.temperature }),
        max_tokens: replyBudget,
      },
    };
  }

  /** Writes the exchange and its usage in one transaction; the reply as the caller sees it. */
  async record(prepared: PreparedExchange, result: UpstreamResult, latencyMs: number): Promise<ChatReply> {
    const { prompt_tokens, completion_tokens } = result.usage;
    const cost = costOf(prepared.model, prompt_tokens, completion_tokens);
    const at = new Date();
    const stored = await this.dataSource.transaction(async (manager) => {
      const written = await this.conversations.recordExchange(
        {
          conversationId: prepared.conversationId,
          isNew: prepared.isNew,
          title: prepared.message.slice(0, TITLE_LENGTH),
          userId: prepared.caller.userId,
          model: prepared.model.model_name,
          userMessageId: randomUUID(),
          userMessage: prepared.message,
          assistantMessageId: randomUUID(),
          reply: result.content,
          promptTokens: prompt_tokens,
          completionTokens: completion_tokens,
          cost,
          latencyMs: Math.max(0, Math.round(latencyMs)),
          at,
        },
        manager,
      );
      if (written) await this.usage.record(this.usageRow(prepared, result.usage, cost, prepared.conversationId), manager);
      return written;
    });
    if (!stored) throw AppError.notFound('Conversation');
    return {
      conversation_id: prepared.conversationId,
      response: result.content,
      model: prepared.model.model_name,
      usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, cost },
      timestamp: at,
    };
  }

  /** Records the usage of a call that stores no conversation (the gateway, code generation), priced from the model. */
  async recordCall(call: PreparedCall, tokens: UpstreamUsage): Promise<ChatUsage> {
    const { prompt_tokens, completion_tokens } = tokens;
    const cost = costOf(call.model, prompt_tokens, completion_tokens);
    await this.usage.record(this.usageRow(call, tokens, cost, null));
    return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, cost };
  }

  private usageRow(call: PreparedCall, tokens: UpstreamUsage, cost: number, conversationId: string | null) {
    return {
      userId: call.caller.userId,
      apiKeyId: call.caller.apiKeyId,
      conversationId,
      model: call.model.model_name,
      provider: call.model.provider,
      promptTokens: tokens.prompt_tokens,
      completionTokens: tokens.completion_tokens,
      cost,
    };
  }

  /**
   * The model and where to call it, once the caller's limits allow the call
   * (AiLimits). A model name may be offered by several providers: they are
   * tried in the catalog's order (ListModelOfferingsQuery), skipping those the
   * caller has no credentials for and those cooling down after repeated
   * failures (a call to the caller's own base_url ignores the provider's
   * health). 404 when no active provider offers the model; 503 when every
   * provider that could serve it is cooling down; 400 naming what to set up
   * when the caller has credentials for none.
   */
  private async route(caller: AiCaller, modelName: string): Promise<{ model: ModelInfo; target: CallTarget }> {
    const offerings = await this.queries.execute(new ListModelOfferingsQuery(modelName));
    if (offerings.length === 0) throw AppError.notFound('Model');
    await this.limits.check(caller, modelName);
    let coolingUntil: Date | null = null;
    for (const offering of offerings) {
      const target = await this.credentials(caller.userId, offering.provider);
      if (!target) continue;
      if (target.health_provider !== null && offering.cooling_down_until !== null) {
        if (coolingUntil === null || offering.cooling_down_until < coolingUntil) coolingUntil = offering.cooling_down_until;
        continue;
      }
      return { model: offering.model, target };
    }
    if (coolingUntil !== null) {
      const retryAfter = Math.max(1, Math.ceil((coolingUntil.getTime() - Date.now()) / 1000));
      throw new AppError(
        ErrorCode.SERVICE_UNAVAILABLE,
        `Every provider of ${modelName} is cooling down after repeated failures; try again in ${retryAfter} s`,
        { model: modelName, retry_after: retryAfter },
        { 'Retry-After': String(retryAfter) },
      );
    }
    const first = offerings[0].provider.provider_key;
    throw new AppError(ErrorCode.BAD_REQUEST, `No credentials for ${first}. Add an AI config for ${first} or ask an admin for a platform key`, {
      provider: first,
    });
  }

  /**
   * Where to call a provider and with which key: the caller's active config of
   * it (its base_url, or the provider's default), else the provider's
   * platform key, else null.
   */
  private async credentials(userId: string, provider: ProviderInfo): Promise<CallTarget | null> {
    const own = await this.queries.execute(new ResolveAiCredentialsQuery(userId, provider.provider_key));
    const ownBaseUrl = own ? (own.base_url ?? provider.default_base_url) : null;
    if (own && ownBaseUrl) {
      return {
        api_style: provider.api_style,
        base_url: ownBaseUrl,
        api_key: own.api_key,
        health_provider: ownBaseUrl === provider.default_base_url ? provider.provider_key : null,
        temperature: own.temperature,
        max_tokens: own.max_tokens,
      };
    }
    const platform = await this.queries.execute(new GetProviderCredentialsQuery(provider.provider_key));
    if (platform?.api_key && platform.base_url) {
      return { api_style: platform.api_style, base_url: platform.base_url, api_key: platform.api_key, health_provider: provider.provider_key };
    }
    return null;
  }
}
