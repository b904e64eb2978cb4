import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Profile fields on users (name and avatar_url are there already), and what
 * finding users by part of their username or name needs: a case-insensitive
 * substring search (ILIKE '%q%' on lower(...)) that a btree cannot serve, so
 * pg_trgm GIN indexes on the same lower() expressions the queries use. The
 * pg_trgm extension was created by Snippets1764100000000, which runs first.
 * Profiles are public by default; a private one is still found by its
 * username, never by its name.
 */
export class Profiles1764400000000 implements MigrationInterface {
  name = 'Profiles1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE users
        ADD COLUMN bio varchar(500),
        ADD COLUMN website varchar(200),
        ADD COLUMN location varchar(100),
        ADD COLUMN company varchar(100),
        ADD COLUMN github varchar(39),
        ADD COLUMN is_public boolean NOT NULL DEFAULT true`);
    await db.query(`CREATE INDEX users_username_trgm_idx ON users USING gin (lower(username) gin_trgm_ops)`);
    await db.query(`CREATE INDEX users_name_trgm_idx ON users USING gin (lower(name) gin_trgm_ops)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX users_name_trgm_idx`);
    await db.query(`DROP INDEX users_username_trgm_idx`);
    await db.query(`
      ALTER TABLE users
        DROP COLUMN is_public,
        DROP COLUMN github,
        DROP COLUMN company,
        DROP COLUMN location,
        DROP COLUMN website,
        DROP COLUMN bio`);
  }
}
