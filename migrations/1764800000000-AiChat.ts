import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AI chat: conversations, their messages and every call's usage.
 *
 * `ai_messages.seq` orders a conversation's messages (two rows written in one
 * transaction share a created_at). A conversation's messages go with it;
 * usage rows stay, their conversation_id set to null, so a user's totals and
 * costs do not shrink when they tidy up. Everything of a user goes with the
 * user.
 *
 * `model` and `provider` are kept as written (names, no foreign key): usage
 * must outlive a model the catalog later deletes or renames.
 */
export class AiChat1764800000000 implements MigrationInterface {
  name = 'AiChat1764800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE ai_conversations (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title varchar(200) NOT NULL,
        model varchar(200) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX ai_conversations_user_updated_idx ON ai_conversations (user_id, updated_at DESC, id DESC)`);
    await db.query(`
      CREATE TABLE ai_messages (
        id uuid PRIMARY KEY,
        conversation_id uuid NOT NULL REFERENCES ai_conversations (id) ON DELETE CASCADE,
        role varchar(16) NOT NULL CHECK (role IN ('user', 'assistant', 'system')),
        content text NOT NULL,
        prompt_tokens integer NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
        completion_tokens integer NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
        cost numeric(14, 6) NOT NULL DEFAULT 0 CHECK (cost >= 0),
        latency_ms integer CHECK (latency_ms >= 0),
        model varchar(200),
        created_at timestamptz NOT NULL DEFAULT now(),
        seq bigserial NOT NULL
      )`);
    await db.query(`CREATE INDEX ai_messages_conversation_seq_idx ON ai_messages (conversation_id, seq)`);
    await db.query(`
      CREATE TABLE ai_usage (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        conversation_id uuid REFERENCES ai_conversations (id) ON DELETE SET NULL,
        model varchar(200) NOT NULL,
        provider varchar(32) NOT NULL,
        prompt_tokens integer NOT NULL CHECK (prompt_tokens >= 0),
        completion_tokens integer NOT NULL CHECK (completion_tokens >= 0),
        cost numeric(14, 6) NOT NULL CHECK (cost >= 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX ai_usage_user_created_idx ON ai_usage (user_id, created_at)`);
    // ON DELETE SET NULL finds a conversation's usage rows through this index.
    await db.query(`CREATE INDEX ai_usage_conversation_idx ON ai_usage (conversation_id) WHERE conversation_id IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE ai_usage`);
    await db.query(`DROP TABLE ai_messages`);
    await db.query(`DROP TABLE ai_conversations`);
  }
}
