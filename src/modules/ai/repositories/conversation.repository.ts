import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

export interface ConversationRow {
  id: string;
  userId: string;
  title: string;
  model: string;
  messageCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface MessageRow {
  id: string;
  role: 'user' | 'assistant' | 'system';
  content: string;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  latencyMs: number | null;
  model: string | null;
  createdAt: Date;
}

/** One turn of history as it is sent to a model. */
export interface HistoryTurn {
  role: 'user' | 'assistant';
  content: string;
}

/** What one completed exchange writes: the user's message, the reply, and the usage row. */
export interface ExchangeRecord {
  conversationId: string;
  /** True: the conversation is created with this exchange (title from the user's message). */
  isNew: boolean;
  title: string;
  userId: string;
  model: string;
  provider: string;
  userMessageId: string;
  userMessage: string;
  assistantMessageId: string;
  reply: string;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  latencyMs: number;
  usageId: string;
  at: Date;
}

export interface UsageTotals {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
}

export interface UsageSummary {
  totals: UsageTotals;
  by_model: Array<UsageTotals & { model: string }>;
  by_day: Array<{ date: string; requests: number; tokens: number; cost: number }>;
  conversations: number;
  messages: number;
}

const CONVERSATION_COLUMNS = `c.id, c.user_id AS "userId", c.title, c.model, c.created_at AS "createdAt", c.updated_at AS "updatedAt",
  (SELECT count(*) FROM ai_messages m WHERE m.conversation_id = c.id)::int AS "messageCount"`;

/** numeric comes back from pg as a string; six decimals are exact in a double for any cost this API sees. */
const money = (value: string | number | null): number => Number(Number(value ?? 0).toFixed(6));

/**
 * `ai_conversations`, `ai_messages` and `ai_usage` (migration
 * 1764800000000-AiChat): every statement the AI context makes about chat.
 * Ownership is the handlers'; the writes take the owner they checked.
 */
@Injectable()
export class ConversationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The owner's user id, or null when there is no such conversation. */
  async ownerOf(id: string): Promise<string | null> {
    const rows: Array<{ userId: string }> = await this.dataSource.query(`SELECT user_id AS "userId" FROM ai_conversations WHERE id = $1`, [id]);
    return rows[0]?.userId ?? null;
  }

  async findById(id: string): Promise<ConversationRow | null> {
    const rows: ConversationRow[] = await this.dataSource.query(`SELECT ${CONVERSATION_COLUMNS} FROM ai_conversations c WHERE c.id = $1`, [id]);
    return rows[0] ?? null;
  }

  /** A user's conversations, most recently updated first, and how many they have. */
  async listRecentFirst(userId: string, page: { page: number; limit: number }): Promise<{ rows: ConversationRow[]; total: number }> {
    const [rows, counted]: [ConversationRow[], Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(
        `SELECT ${CONVERSATION_COLUMNS} FROM ai_conversations c WHERE c.user_id = $1
         ORDER BY c.updated_at DESC, c.id DESC LIMIT $2 OFFSET $3`,
        [userId, page.limit, (page.page - 1) * page.limit],
      ),
      this.dataSource.query(`SELECT count(*)::int AS total FROM ai_conversations WHERE user_id = $1`, [userId]),
    ]);
    return { rows, total: counted[0].total };
  }

  /** A conversation's messages, oldest first, and how many it has. */
  async listMessages(conversationId: string, page: { page: number; limit: number }): Promise<{ rows: MessageRow[]; total: number }> {
    const [rows, counted]: [Array<MessageRow & { cost: string }>, Array<{ total: number }>] = await Promise.all([
      this.dataSource.query(
        `SELECT id, role, content, prompt_tokens AS "promptTokens", completion_tokens AS "completionTokens", cost::text AS cost,
                latency_ms AS "latencyMs", model, created_at AS "createdAt"
         FROM ai_messages WHERE conversation_id = $1 ORDER BY seq LIMIT $2 OFFSET $3`,
        [conversationId, page.limit, (page.page - 1) * page.limit],
      ),
      this.dataSource.query(`SELECT count(*)::int AS total FROM ai_messages WHERE conversation_id = $1`, [conversationId]),
    ]);
    return { rows: rows.map((row) => ({ ...row, cost: money(row.cost) })), total: counted[0].total };
  }

  /**
   * The newest user and assistant messages of a conversation whose estimated
   * tokens (ceil(characters / 4) each) add up to at most `tokenBudget`, oldest
   * first: the history is cut from the newest back at the first message that
   * no longer fits.
   */
  history(conversationId: string, tokenBudget: number): Promise<HistoryTurn[]> {
    if (tokenBudget <= 0) return Promise.resolve([]);
    return this.dataSource.query(
      `SELECT role, content FROM (
         SELECT role, content, seq, sum(ceil(length(content) / 4.0)) OVER (ORDER BY seq DESC) AS running
         FROM ai_messages WHERE conversation_id = $1 AND role IN ('user', 'assistant')
       ) recent
       WHERE running <= $2 ORDER BY seq`,
      [conversationId, tokenBudget],
    );
  }

  /**
   * Writes one exchange in one transaction: the conversation (created, or its
   * updated_at moved on), the user's message, the reply and the usage row.
   * False, and nothing written, when a conversation the exchange continues no
   * longer belongs to the user (deleted meanwhile).
   */
  recordExchange(record: ExchangeRecord): Promise<boolean> {
    return this.dataSource.transaction(async (manager: EntityManager) => {
      if (record.isNew) {
        await manager.query(
          `INSERT INTO ai_conversations (id, user_id, title, model, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)`,
          [record.conversationId, record.userId, record.title, record.model, record.at],
        );
      } else {
        const [, touched]: [unknown, number] = await manager.query(
          `UPDATE ai_conversations SET updated_at = $3, model = $4 WHERE id = $1 AND user_id = $2`,
          [record.conversationId, record.userId, record.at, record.model],
        );
        if (touched === 0) return false;
      }
      await manager.query(
        `INSERT INTO ai_messages (id, conversation_id, role, content, created_at) VALUES ($1, $2, 'user', $3, $4)`,
        [record.userMessageId, record.conversationId, record.userMessage, record.at],
      );
      await manager.query(
        `INSERT INTO ai_messages (id, conversation_id, role, content, prompt_tokens, completion_tokens, cost, latency_ms, model, created_at)
         VALUES ($1, $2, 'assistant', $3, $4, $5, $6, $7, $8, now())`,
        [record.assistantMessageId, record.conversationId, record.reply, record.promptTokens, record.completionTokens, record.cost, record.latencyMs, record.model],
      );
      await manager.query(
        `INSERT INTO ai_usage (id, user_id, conversation_id, model, provider, prompt_tokens, completion_tokens, cost, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())`,
        [record.usageId, record.userId, record.conversationId, record.model, record.provider, record.promptTokens, record.completionTokens, record.cost],
      );
      return true;
    });
  }

  /** Renames the conversation if it still belongs to `ownerId`; the renamed row, or null. */
  async renameOwned(id: string, ownerId: string, title: string, at: Date): Promise<ConversationRow | null> {
    const [, changed]: [unknown, number] = await this.dataSource.query(
      `UPDATE ai_conversations SET title = $3, updated_at = $4 WHERE id = $1 AND user_id = $2`,
      [id, ownerId, title, at],
    );
    return changed > 0 ? this.findById(id) : null;
  }

  /** Deletes the conversation (its messages cascade, its usage rows keep a null conversation_id) if it still belongs to `ownerId`. */
  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    const [, deleted]: [unknown, number] = await this.dataSource.query(`DELETE FROM ai_conversations WHERE id = $1 AND user_id = $2`, [id, ownerId]);
    return deleted > 0;
  }

  /** A user's usage in aggregates: all time, per model, per UTC day of the last 30 (days without use as zeros). */
  async usageOf(userId: string): Promise<UsageSummary> {
    type Sums = { requests: number; prompt_tokens: string; completion_tokens: string; cost: string };
    const sums = `count(*)::int AS requests, coalesce(sum(prompt_tokens), 0)::text AS prompt_tokens,
                  coalesce(sum(completion_tokens), 0)::text AS completion_tokens, coalesce(sum(cost), 0)::text AS cost`;
    const [totals, byModel, byDay, counts]: [Sums[], Array<Sums & { model: string }>, Array<{ date: string; requests: number; tokens: string; cost: string }>, Array<{ conversations: number; messages: number }>] =
      await Promise.all([
        this.dataSource.query(`SELECT ${sums} FROM ai_usage WHERE user_id = $1`, [userId]),
        this.dataSource.query(`SELECT model, ${sums} FROM ai_usage WHERE user_id = $1 GROUP BY model ORDER BY sum(cost) DESC, model`, [userId]),
        this.dataSource.query(
          `SELECT to_char(d.day, 'YYYY-MM-DD') AS date, count(u.id)::int AS requests,
                  coalesce(sum(u.prompt_tokens + u.completion_tokens), 0)::text AS tokens, coalesce(sum(u.cost), 0)::text AS cost
           FROM generate_series((now() AT TIME ZONE 'UTC')::date - 29, (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d(day)
           LEFT JOIN ai_usage u ON u.user_id = $1 AND u.created_at >= (d.day AT TIME ZONE 'UTC') AND u.created_at < ((d.day + interval '1 day') AT TIME ZONE 'UTC')
           GROUP BY d.day ORDER BY d.day`,
          [userId],
        ),
        this.dataSource.query(
          `SELECT (SELECT count(*) FROM ai_conversations WHERE user_id = $1)::int AS conversations,
                  (SELECT count(*) FROM ai_messages m JOIN ai_conversations c ON c.id = m.conversation_id WHERE c.user_id = $1)::int AS messages`,
          [userId],
        ),
      ]);
    const toTotals = (row: Sums): UsageTotals => ({
      requests: row.requests,
      prompt_tokens: Number(row.prompt_tokens),
      completion_tokens: Number(row.completion_tokens),
      cost: money(row.cost),
    });
    return {
      totals: toTotals(totals[0]),
      by_model: byModel.map((row) => ({ model: row.model, ...toTotals(row) })),
      by_day: byDay.map((row) => ({ date: row.date, requests: row.requests, tokens: Number(row.tokens), cost: money(row.cost) })),
      conversations: counts[0].conversations,
      messages: counts[0].messages,
    };
  }
}
