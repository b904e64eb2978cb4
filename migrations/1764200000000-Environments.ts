import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Users' Python environments. Names are unique per owner (two users
 * may both have `data-science`); `path` is derived from the id when the row is
 * created and never from user input.
 */
export class Environments1764200000000 implements MigrationInterface {
  name = 'Environments1764200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE user_environments (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(64) NOT NULL,
        description text NOT NULL DEFAULT '',
        python_version varchar(20) NOT NULL DEFAULT '',
        backend varchar(10) NOT NULL CHECK (backend IN ('venv', 'conda')),
        is_public boolean NOT NULL DEFAULT false,
        path text NOT NULL,
        status varchar(10) NOT NULL DEFAULT 'creating' CHECK (status IN ('creating', 'ready')),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT user_environments_user_id_name_key UNIQUE (user_id, name)
      )`);
    // GET /environments/:name falls back to public environments by name.
    await db.query(`CREATE INDEX user_environments_public_name_idx ON user_environments (name, created_at) WHERE is_public`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE user_environments`);
  }
}
