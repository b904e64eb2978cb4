import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-API-key AI limits, set by the key's owner: a monthly token budget
 * (prompt + completion tokens per UTC month of calls made with the key; NULL =
 * no budget of its own) and a models allow-list (model names; NULL = every
 * model). Both are checked by the AI context before each call.
 */
export class ApiKeyAiLimits1765000000000 implements MigrationInterface {
  name = 'ApiKeyAiLimits1765000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE api_keys
        ADD COLUMN ai_token_budget bigint CONSTRAINT api_keys_ai_token_budget_check CHECK (ai_token_budget > 0),
        ADD COLUMN ai_models text[]`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE api_keys DROP COLUMN ai_models, DROP COLUMN ai_token_budget`);
  }
}
