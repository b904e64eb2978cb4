import type { ChatReply } from './chat-exchange';
import type { ChatResponse } from './http/dto/chat.dto';
import type { ConversationResponse, MessageResponse, UsageResponse } from './http/dto/conversation.dto';
import type { UsageSummary } from './queries/get-ai-usage.query';
import type { ConversationRow, MessageRow } from './repositories/conversation.repository';

/** Wire shapes of chat: whitelists, so the owner and anything added to the rows later stay inside. */
export function toChatResponse(reply: ChatReply): ChatResponse {
  return {
    conversation_id: reply.conversation_id,
    response: reply.response,
    model: reply.model,
    usage: {
      prompt_tokens: reply.usage.prompt_tokens,
      completion_tokens: reply.usage.completion_tokens,
      total_tokens: reply.usage.total_tokens,
      cost: reply.usage.cost,
    },
    timestamp: reply.timestamp.toISOString(),
  };
}

export function toConversationResponse(row: ConversationRow): ConversationResponse {
  return {
    id: row.id,
    title: row.title,
    model: row.model,
    message_count: row.messageCount,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toMessageResponse(row: MessageRow): MessageResponse {
  return {
    id: row.id,
    role: row.role,
    content: row.content,
    prompt_tokens: row.promptTokens,
    completion_tokens: row.completionTokens,
    cost: row.cost,
    latency_ms: row.latencyMs,
    model: row.model,
    created_at: row.createdAt.toISOString(),
  };
}

export function toUsageResponse(usage: UsageSummary): UsageResponse {
  const totals = (t: UsageSummary['totals']) => ({ requests: t.requests, prompt_tokens: t.prompt_tokens, completion_tokens: t.completion_tokens, cost: t.cost });
  return {
    totals: totals(usage.totals),
    by_model: usage.by_model.map((row) => ({ model: row.model, ...totals(row) })),
    by_day: usage.by_day.map((row) => ({ date: row.date, requests: row.requests, tokens: row.tokens, cost: row.cost })),
    conversations: usage.conversations,
    messages: usage.messages,
  };
}
