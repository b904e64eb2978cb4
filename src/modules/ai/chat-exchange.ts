import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { GetModelQuery, ModelInfo } from '../ai-catalog/queries/get-model.query';
import { GetProviderCredentialsQuery } from '../ai-catalog/queries/get-provider-credentials.query';
import { GetProviderQuery } from '../ai-catalog/queries/get-provider.query';
import { DEFAULT_MAX_TOKENS } from './commands/create-ai-config.command';
import { ResolveAiCredentialsQuery } from './queries/resolve-ai-credentials.query';
import { ConversationRepository } from './repositories/conversation.repository';
import type { UpstreamRequest, UpstreamResult } from './upstream/chat-upstream';

/** What a chat message asks for (the request DTO implements it). */
export interface ChatInput {
  message: string;
  model: string;
  conversation_id?: string;
  system_prompt?: string;
}

/** An exchange ready to send: checked, with its credentials and the history that fits. */
export interface PreparedExchange {
  userId: string;
  conversationId: string;
  isNew: boolean;
  message: string;
  model: ModelInfo;
  request: UpstreamRequest;
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
 * The two ends of one chat exchange, shared by the plain and the streaming
 * command: before the call (the model, the caller's credentials, the
 * conversation, the history that fits the model's context) and after it (the
 * user's message, the reply and the usage, written in one transaction). Nothing
 * is written before the call succeeds, so a failed or aborted call leaves no
 * trace.
 */
@Injectable()
export class ChatExchange {
  constructor(
    private readonly queries: QueryBus,
    private readonly conversations: ConversationRepository,
  ) {}

  async prepare(userId: string, input: ChatInput): Promise<PreparedExchange> {
    const model = await this.queries.execute(new GetModelQuery(input.model));
    if (!model || !model.is_active) throw AppError.notFound('Model');
    const provider = await this.queries.execute(new GetProviderQuery(model.provider));
    if (!provider || !provider.is_active) throw AppError.notFound('Model');

    let isNew = true;
    let conversationId: string = randomUUID();
    if (input.conversation_id !== undefined) {
      // Only the caller's own conversations are continued, an admin's included.
      if ((await this.conversations.ownerOf(input.conversation_id.toLowerCase())) !== userId) throw AppError.notFound('Conversation');
      conversationId = input.conversation_id.toLowerCase();
      isNew = false;
    }

    const target = await this.credentials(userId, model.provider, provider);
    // The reply's budget: the config's max_tokens (or the default), at most half the model's context.
    const replyBudget = Math.max(1, Math.min(target.max_tokens ?? DEFAULT_MAX_TOKENS, Math.floor(model.max_tokens / 2)));
    const system = input.system_prompt ? [{ role: 'system' as const, content: input.system_prompt }] : [];
    const fixed = estimateTokens(input.message) + (input.system_prompt ? estimateTokens(input.system_prompt) : 0);
    const history = isNew ? [] : await this.conversations.history(conversationId, model.max_tokens - replyBudget - fixed);

    return {
      userId,
      conversationId,
      isNew,
      message: input.message,
      model,
      request: {
        api_style: target.api_style,
        base_url: target.base_url,
        api_key: target.api_key,
        model: model.model_name,
        messages: [...system, ...history, { role: 'user', content: input.message }],
        ...(target.temperature !== undefined && { temperature: target.temperature }),
        max_tokens: replyBudget,
      },
    };
  }

  /** Writes the exchange; the reply as the caller sees it. */
  async record(prepared: PreparedExchange, result: UpstreamResult, latencyMs: number): Promise<ChatReply> {
    const { prompt_tokens, completion_tokens } = result.usage;
    const cost = costOf(prepared.model, prompt_tokens, completion_tokens);
    const at = new Date();
    const stored = await this.conversations.recordExchange({
      conversationId: prepared.conversationId,
      isNew: prepared.isNew,
      title: prepared.message.slice(0, TITLE_LENGTH),
      userId: prepared.userId,
      model: prepared.model.model_name,
      provider: prepared.model.provider,
      userMessageId: randomUUID(),
      userMessage: prepared.message,
      assistantMessageId: randomUUID(),
      reply: result.content,
      promptTokens: prompt_tokens,
      completionTokens: completion_tokens,
      cost,
      latencyMs: Math.max(0, Math.round(latencyMs)),
      usageId: randomUUID(),
      at,
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

  /**
   * Where to call and with which key: the caller's active config of the
   * model's provider (its base_url, or the provider's default), else the
   * provider's platform key, else 400 saying what to set up.
   */
  private async credentials(
    userId: string,
    providerKey: string,
    provider: { api_style: 'openai' | 'anthropic'; default_base_url: string | null; display_name: string },
  ): Promise<{ api_style: 'openai' | 'anthropic'; base_url: string; api_key: string | null; temperature?: number; max_tokens?: number }> {
    const own = await this.queries.execute(new ResolveAiCredentialsQuery(userId, providerKey));
    const ownBaseUrl = own ? (own.base_url ?? provider.default_base_url) : null;
    if (own && ownBaseUrl) {
      return { api_style: provider.api_style, base_url: ownBaseUrl, api_key: own.api_key, temperature: own.temperature, max_tokens: own.max_tokens };
    }
    const platform = await this.queries.execute(new GetProviderCredentialsQuery(providerKey));
    if (platform?.api_key && platform.base_url) return { api_style: platform.api_style, base_url: platform.base_url, api_key: platform.api_key };
    throw new AppError(ErrorCode.BAD_REQUEST, `No credentials for ${providerKey}. Add an AI config for ${providerKey} or ask an admin for a platform key`, {
      provider: providerKey,
    });
  }
}
