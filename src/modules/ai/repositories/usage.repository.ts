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
}
