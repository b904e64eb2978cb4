import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** One call's usage, as recorded. */
export interface UsageRecord {
  userId: string;
  /** The API key the call was made with; null: a session. */
  apiKeyId: string | null;
  /** The conversation the call belongs to; null: a call that stores none (the gateway, code generation). */
  conversationId: string | null;
  model: string;
  provider: string;
  promptTokens: number;
  completionTokens: number;
  cost: number;
}

export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
}

/** A user's usage in aggregates: all time, per model, per UTC day of the last 30 (days without use as zeros). */
export interface UsageAggregates {
  totals: UsageTotals;
  by_model: Array<UsageTotals & { model: string }>;
  by_day: Array<{ date: string; requests: number; tokens: number; cost: number }>;
}

/** What the limits checked before a call need: the caller's use of the UTC day and month. */
export interface UsageSoFar {
  requestsToday: number;
  tokensThisMonth: number;
  /** Tokens this month of calls made with the API key asked about (0 without one). */
  keyTokensThisMonth: number;
}

/** numeric comes back from pg as a string; six decimals are exact in a double for any cost this API sees. */
export const money = (value: string | number | null): number => Number(Number(value ?? 0).toFixed(6));

type Sums = { requests: string; prompt_tokens: string; completion_tokens: string; cost: string };

const SUMS = `coalesce(sum(requests), 0)::text AS requests, coalesce(sum(prompt_tokens), 0)::text AS prompt_tokens,
  coalesce(sum(completion_tokens), 0)::text AS completion_tokens, coalesce(sum(cost), 0)::text AS cost`;

const toTotals = (row: Sums): UsageTotals => ({
  requests: Number(row.requests),
  prompt_tokens: Number(row.prompt_tokens),
  completion_tokens: Number(row.completion_tokens),
  cost: money(row.cost),
});

/**
 * `ai_usage` (one row per call, append-only) and `ai_usage_daily`, its
 * roll-up per user, UTC day, model, provider and API key that a trigger keeps
 * (migration 1765100000000-AiUsageDaily). Every read goes to the roll-up, so
 * it costs the same after a million calls as after ten.
 */
@Injectable()
export class UsageRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Writes a call's usage row, in the caller's transaction when given one (the chat's, with its messages). */
  async record(row: UsageRecord, manager: EntityManager = this.dataSource.manager): Promise<void> {
    await manager.query(
      `INSERT INTO ai_usage (id, user_id, api_key_id, conversation_id, model, provider, prompt_tokens, completion_tokens, cost, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())`,
      [randomUUID(), row.userId, row.apiKeyId, row.conversationId, row.model, row.provider, row.promptTokens, row.completionTokens, row.cost],
    );
  }

  /**
   * The user's requests of the UTC day, tokens (prompt + completion) of the
   * UTC month, and the month's tokens of one of their API keys — one statement
   * over at most a month of roll-up rows.
   */
  async usedSince(userId: string, apiKeyId: string | null): Promise<UsageSoFar> {
    const rows: Array<{ requests: string; tokens: string; key_tokens: string }> = await this.dataSource.query(
      `SELECT coalesce(sum(requests) FILTER (WHERE day = (now() AT TIME ZONE 'UTC')::date), 0)::text AS requests,
              coalesce(sum(prompt_tokens + completion_tokens), 0)::text AS tokens,
              coalesce(sum(prompt_tokens + completion_tokens) FILTER (WHERE api_key_id = $2), 0)::text AS key_tokens
         FROM ai_usage_daily
        WHERE user_id = $1 AND day >= date_trunc('month', now() AT TIME ZONE 'UTC')::date`,
      [userId, apiKeyId],
    );
    return { requestsToday: Number(rows[0].requests), tokensThisMonth: Number(rows[0].tokens), keyTokensThisMonth: Number(rows[0].key_tokens) };
  }

  async aggregatesOf(userId: string): Promise<UsageAggregates> {
    const [totals, byModel, byDay]: [Sums[], Array<Sums & { model: string }>, Array<Sums & { date: string }>] = await Promise.all([
      this.dataSource.query(`SELECT ${SUMS} FROM ai_usage_daily WHERE user_id = $1`, [userId]),
      this.dataSource.query(`SELECT model, ${SUMS} FROM ai_usage_daily WHERE user_id = $1 GROUP BY model ORDER BY sum(cost) DESC, model`, [userId]),
      this.dataSource.query(
        `SELECT to_char(d.day, 'YYYY-MM-DD') AS date, ${SUMS}
           FROM generate_series((now() AT TIME ZONE 'UTC')::date - 29, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)
           LEFT JOIN ai_usage_daily u ON u.user_id = $1 AND u.day = d.day::date
          GROUP BY d.day ORDER BY d.day`,
        [userId],
      ),
    ]);
    return {
      totals: toTotals(totals[0]),
      by_model: byModel.map((row) => ({ model: row.model, ...toTotals(row) })),
      by_day: byDay.map((row) => {
        const day = toTotals(row);
        return { date: row.date, requests: day.requests, tokens: day.prompt_tokens + day.completion_tokens, cost: day.cost };
      }),
    };
  }
}
