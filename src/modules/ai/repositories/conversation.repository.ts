import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { money } from './usage.repository';

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

/** What one completed exchange writes: the user's message and the reply (the usage row: UsageRepository, same transaction). */
export interface ExchangeRecord {
  conversationId: string;
  /** True: the conversation is created with this exchange (title from the user's message). */
  isNew: boolean;
  title: string;
  userId: string;
  model: string;
  userMessageId: string;
  userMessage: string;
  assistantMessageId: string;
  reply: string;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  latencyMs: number;
  at: Date;
}

const CONVERSATION_COLUMNS = `c.id, c.user_id AS "userId", c.title, c.model, c.created_at AS "createdAt", c.updated_at AS "updatedAt",
  c.message_count AS "messageCount"`;

/**
 * `ai_conversations` and `ai_messages` (migrations 1764800000000-AiChat and
 * 1765100000000-AiUsageDaily: message_count): every statement the AI context
 * makes about conversations.
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
      this.dataSource.query(`SELECT message_count AS total FROM ai_conversations WHERE id = $1`, [conversationId]),
    ]);
    return { rows: rows.map((row) => ({ ...row, cost: money(row.cost) })), total: counted[0]?.total ?? 0 };
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
   * Writes one exchange in the caller's transaction: the conversation
   * (created, or its updated_at and message_count moved on), the user's
   * message and the reply. False, and nothing written, when a conversation the
   * exchange continues no longer belongs to the user (deleted meanwhile).
   */
  async recordExchange(record: ExchangeRecord, manager: EntityManager): Promise<boolean> {
    if (record.isNew) {
      await manager.query(
        `INSERT INTO ai_conversations (id, user_id, title, model, message_count, created_at, updated_at) VALUES ($1, $2, $3, $4, 2, $5, $5)`,
        [record.conversationId, record.userId, record.title, record.model, record.at],
      );
    } else {
      const [, touched]: [unknown, number] = await manager.query(
        `UPDATE ai_conversations SET updated_at = $3, model = $4, message_count = message_count + 2 WHERE id = $1 AND user_id = $2`,
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
    return true;
  }

  /** How many conversations a user keeps and how many messages they hold (message_count: no messages are counted). */
  async countsOf(userId: string): Promise<{ conversations: number; messages: number }> {
    const rows: Array<{ conversations: number; messages: string }> = await this.dataSource.query(
      `SELECT count(*)::int AS conversations, coalesce(sum(message_count), 0)::text AS messages FROM ai_conversations WHERE user_id = $1`,
      [userId],
    );
    return { conversations: rows[0].conversations, messages: Number(rows[0].messages) };
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
}
