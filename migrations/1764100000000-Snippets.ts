import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The code library. `q` searches title, description and code by
 * case-insensitive substring (ILIKE '%word%'); pg_trgm GIN indexes serve that
 * without a sequential scan (a tsvector would match whole words only, not
 * `fib` in `fibonacci`). pg_trgm ships with PostgreSQL (contrib) and is a
 * trusted extension, so the database owner may create it.
 */
export class Snippets1764100000000 implements MigrationInterface {
  name = 'Snippets1764100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await db.query(`
      CREATE TABLE snippets (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        title varchar(200) NOT NULL,
        description text NOT NULL DEFAULT '',
        code text NOT NULL,
        language varchar(20) NOT NULL CHECK (language IN ('python', 'javascript')),
        tags text[] NOT NULL DEFAULT '{}',
        is_public boolean NOT NULL DEFAULT false,
        environment_id uuid,
        saved_from_id uuid REFERENCES snippets (id) ON DELETE SET NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX snippets_user_id_idx ON snippets (user_id, created_at DESC)`);
    await db.query(`CREATE INDEX snippets_tags_idx ON snippets USING gin (tags)`);
    await db.query(`CREATE INDEX snippets_title_trgm_idx ON snippets USING gin (title gin_trgm_ops)`);
    await db.query(`CREATE INDEX snippets_description_trgm_idx ON snippets USING gin (description gin_trgm_ops)`);
    await db.query(`CREATE INDEX snippets_code_trgm_idx ON snippets USING gin (code gin_trgm_ops)`);
    // ON DELETE SET NULL on saved_from_id looks copies up by it.
    await db.query(`CREATE INDEX snippets_saved_from_id_idx ON snippets (saved_from_id) WHERE saved_from_id IS NOT NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    // The extension stays: other tables may come to use it.
    await db.query(`DROP TABLE snippets`);
  }
}
