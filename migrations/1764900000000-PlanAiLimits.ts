import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Per-plan AI limits (NULL = unlimited): AI requests per UTC day and tokens
 * (prompt + completion) per UTC month, counted over ai_usage. The seeded
 * plans grow from free to enterprise, which is unlimited.
 */
export class PlanAiLimits1764900000000 implements MigrationInterface {
  name = 'PlanAiLimits1764900000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE plans ADD COLUMN ai_requests_per_day integer, ADD COLUMN ai_tokens_per_month integer`);
    await db.query(`
      UPDATE plans SET (ai_requests_per_day, ai_tokens_per_month) = (v.requests, v.tokens)
      FROM (VALUES ('free', 50, 200000), ('basic', 200, 1000000), ('premium', 1000, 5000000), ('enterprise', NULL::integer, NULL::integer))
        AS v (id, requests, tokens)
      WHERE plans.id = v.id`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`ALTER TABLE plans DROP COLUMN ai_tokens_per_month, DROP COLUMN ai_requests_per_day`);
  }
}
