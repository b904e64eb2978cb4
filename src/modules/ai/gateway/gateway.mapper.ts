import { randomUUID } from 'node:crypto';

/** A completion's counts as OpenAI reports them. */
export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** One completion's id, time and model, shared by its chunks. */
export interface CompletionHead {
  id: string;
  created: number;
  model: string;
}

export function newCompletionHead(model: string): CompletionHead {
  return { id: `chatcmpl-${randomUUID().replace(/-/g, '')}`, created: Math.floor(Date.now() / 1000), model };
}

export function toOpenAiUsage(usage: { prompt_tokens: number; completion_tokens: number }): OpenAiUsage {
  return { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

/** OpenAI's `chat.completion` object. */
export function toChatCompletion(head: CompletionHead, content: string, usage: OpenAiUsage) {
  return {
    id: head.id,
    object: 'chat.completion' as const,
    created: head.created,
    model: head.model,
    choices: [{ index: 0, message: { role: 'assistant' as const, content, refusal: null }, logprobs: null, finish_reason: 'stop' as const }],
    usage,
  };
}

type Delta = { role: 'assistant'; content: string } | { content: string } | Record<string, never>;

/** OpenAI's `chat.completion.chunk` with one choice. */
export function toChunk(head: CompletionHead, delta: Delta, finishReason: 'stop' | null) {
  return {
    id: head.id,
    object: 'chat.completion.chunk' as const,
    created: head.created,
    model: head.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

/** The usage chunk `stream_options.include_usage` asks for: no choices. */
export function toUsageChunk(head: CompletionHead, usage: OpenAiUsage) {
  return { id: head.id, object: 'chat.completion.chunk' as const, created: head.created, model: head.model, choices: [], usage };
}

/** OpenAI's model list. */
export function toModelList(models: Array<{ model_name: string; provider: string; created_at: Date }>) {
  return {
    object: 'list' as const,
    data: models.map((m) => ({ id: m.model_name, object: 'model' as const, created: Math.floor(m.created_at.getTime() / 1000), owned_by: m.provider })),
  };
}
