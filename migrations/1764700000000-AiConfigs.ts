import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users' AI configs: which provider (a provider_key of the catalog's
 * `ai_providers`), model and settings a user talks to, with their own API key
 * sealed by SecretBox (`api_key_sealed`; `api_key_masked` is what may be shown,
 * kept beside it so reading a list never decrypts anything).
 *
 * A user has at most one active config per provider: the partial unique index
 * makes two impossible whatever writes them; the handlers deactivate the others
 * in the same transaction, behind a per-user lock, so concurrent toggles queue
 * instead of failing on it.
 *
 * `provider` names a catalog provider by its key, as the catalog's own models
 * do; the catalog only ever deactivates providers, so the foreign key never
 * stands in its way.
 */
export class AiConfigs1764700000000 implements MigrationInterface {
  name = 'AiConfigs1764700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE ai_configs (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        provider varchar(32) NOT NULL REFERENCES ai_providers (provider_key),
        base_url varchar(2048),
        api_key_sealed text,
        api_key_masked varchar(32),
        model varchar(100) NOT NULL,
        temperature double precision NOT NULL DEFAULT 0.7 CHECK (temperature >= 0 AND temperature <= 2),
        max_tokens integer NOT NULL DEFAULT 2048 CHECK (max_tokens BETWEEN 1 AND 1000000),
        is_active boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ai_configs_user_id_name_key UNIQUE (user_id, name),
        CHECK ((api_key_sealed IS NULL) = (api_key_masked IS NULL))
      )`);
    await db.query(`CREATE UNIQUE INDEX ai_configs_one_active_key ON ai_configs (user_id, provider) WHERE is_active`);
    await db.query(`CREATE INDEX ai_configs_user_created_idx ON ai_configs (user_id, created_at DESC, id DESC)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE ai_configs`);
  }
}
