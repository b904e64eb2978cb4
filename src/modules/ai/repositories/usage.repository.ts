import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface UsageRecord {
  userId: string;
  model: string;
  provider: string;
  promptTokens: number;
  completionTokens: number;
  cost: number;
}

/**
 * A usage row in `ai_usage` for a call that stores no conversation (the
 * OpenAI-compatible gateway, code generation). The chat writes its usage with
 * its messages, in ConversationRepository's transaction; GET /ai/usage counts
 * them all.
 */
@Injectable()
export class UsageRepository {
  constructor(private readonly dataSource: DataSource) {}

  async record(row: UsageRecord): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO ai_usage (id, user_id, conversation_id, model, provider, prompt_tokens, completion_tokens, cost, created_at)
       VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, now())`,
      [randomUUID(), row.userId, row.model, row.provider, row.promptTokens, row.completionTokens, row.cost],
    );
  }

  /**
   * A user's AI requests since the start of the UTC day and tokens (prompt +
   * completion) since the start of the UTC month, in one statement over the
   * (user_id, created_at) index; the chat's rows count as well.
   */
  async usedSince(userId: string): Promise<{ requestsToday: number; tokensThisMonth: number }> {
    const rows: { requests: string; tokens: string }[] = await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') AS requests,
              COALESCE(sum(prompt_tokens::bigint + completion_tokens), 0) AS tokens
         FROM ai_usage
        WHERE user_id = $1 AND created_at >= date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
      [userId],
    );
    return { requestsToday: Number(rows[0].requests), tokensThisMonth: Number(rows[0].tokens) };
  }
}
