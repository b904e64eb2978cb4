import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * AI usage by day: `ai_usage_daily` holds one row per user, UTC day, model,
 * provider and API key (NULL: calls made with a session) with the number of
 * calls, tokens and cost, so GET /ai/usage and the limits checked before every
 * call read a few hundred rows however many calls a user made. A statement
 * trigger on `ai_usage` keeps it: each INSERT statement adds its rows, grouped,
 * in one upsert (in key order, so concurrent writers lock rows in the same
 * order). `ai_usage` rows are append-only — nothing updates or deletes them but
 * the cascade of a deleted user, which takes the roll-up rows too.
 *
 * `ai_usage.api_key_id` names the key a call was made with (no foreign key: a
 * deleted key's usage still counts in its user's totals).
 *
 * `ai_conversations.message_count`: the conversation list and GET /ai/usage
 * read it instead of counting messages; the exchange that writes the messages
 * moves it in the same transaction.
 */
export class AiUsageDaily1765100000000 implements MigrationInterface {
  name = 'AiUsageDaily1765100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE ai_usage ADD COLUMN api_key_id uuid`);
    await db.query(`
      CREATE TABLE ai_usage_daily (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        day date NOT NULL,
        model varchar(200) NOT NULL,
        provider varchar(32) NOT NULL,
        api_key_id uuid,
        requests integer NOT NULL,
        prompt_tokens bigint NOT NULL,
        completion_tokens bigint NOT NULL,
        cost numeric(20, 6) NOT NULL,
        CONSTRAINT ai_usage_daily_key UNIQUE NULLS NOT DISTINCT (user_id, day, model, provider, api_key_id)
      )`);
    // An API key's budget: its rows of the month.
    await db.query(`CREATE INDEX ai_usage_daily_api_key_idx ON ai_usage_daily (api_key_id, day) WHERE api_key_id IS NOT NULL`);
    await db.query(`
      CREATE FUNCTION ai_usage_roll_up() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO ai_usage_daily AS d (user_id, day, model, provider, api_key_id, requests, prompt_tokens, completion_tokens, cost)
        SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, model, provider, api_key_id,
               count(*), sum(prompt_tokens), sum(completion_tokens), sum(cost)
          FROM added
         GROUP BY 1, 2, 3, 4, 5
         ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT ON CONSTRAINT ai_usage_daily_key DO UPDATE
          SET requests = d.requests + EXCLUDED.requests,
              prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
              completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
              cost = d.cost + EXCLUDED.cost;
        RETURN NULL;
      END $$`);
    await db.query(`
      CREATE TRIGGER ai_usage_roll_up AFTER INSERT ON ai_usage
        REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION ai_usage_roll_up()`);
    await db.query(`
      INSERT INTO ai_usage_daily (user_id, day, model, provider, api_key_id, requests, prompt_tokens, completion_tokens, cost)
      SELECT user_id, (created_at AT TIME ZONE 'UTC')::date, model, provider, api_key_id,
             count(*), sum(prompt_tokens), sum(completion_tokens), sum(cost)
        FROM ai_usage GROUP BY 1, 2, 3, 4, 5`);

    await db.query(`ALTER TABLE ai_conversations ADD COLUMN message_count integer NOT NULL DEFAULT 0`);
    await db.query(`
      UPDATE ai_conversations c SET message_count = m.n
        FROM (SELECT conversation_id, count(*)::int AS n FROM ai_messages GROUP BY conversation_id) m
       WHERE m.conversation_id = c.id`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE ai_conversations DROP COLUMN message_count`);
    await db.query(`DROP TRIGGER ai_usage_roll_up ON ai_usage`);
    await db.query(`DROP FUNCTION ai_usage_roll_up()`);
    await db.query(`DROP TABLE ai_usage_daily`);
    await db.query(`ALTER TABLE ai_usage DROP COLUMN api_key_id`);
  }
}
