import { MigrationInterface, QueryRunner } from 'typeorm';

/** Plans with their default limits, users, login sessions and API keys. */
export class Identity1763800000000 implements MigrationInterface {
  name = 'Identity1763800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE plans (
        id varchar(20) PRIMARY KEY,
        name varchar(50) NOT NULL,
        sort_order integer NOT NULL,
        execution_timeout_seconds integer NOT NULL,
        execution_memory_mb integer NOT NULL,
        executions_per_day integer,
        api_executions_per_day integer,
        max_api_keys integer,
        max_environments integer,
        max_concurrent_executions integer,
        deployments_per_day integer,
        max_running_deployments integer,
        storage_bytes bigint,
        max_upload_bytes bigint,
        requests_per_minute integer,
        requests_per_hour integer,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    // NULL means unlimited.
    await db.query(`
      INSERT INTO plans (id, name, sort_order, execution_timeout_seconds, execution_memory_mb,
        executions_per_day, api_executions_per_day, max_api_keys, max_environments, max_concurrent_executions,
        deployments_per_day, max_running_deployments, storage_bytes, max_upload_bytes,
        requests_per_minute, requests_per_hour)
      VALUES
        ('free', 'Free', 1, 5, 128, 100, 50, 1, 1, 1, 10, 1, 104857600, 10485760, 60, 1000),
        ('basic', 'Basic', 2, 10, 256, 500, 500, 3, 1, 2, 30, 3, 1073741824, 26214400, 120, 3000),
        ('premium', 'Premium', 3, 30, 512, 2000, 5000, 10, 3, 4, 100, 10, 10737418240, 104857600, 300, 10000),
        ('enterprise', 'Enterprise', 4, 60, 1024, NULL, NULL, NULL, 10, NULL, NULL, 50, 107374182400, 524288000, NULL, NULL)`);

    await db.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        username varchar(32) NOT NULL,
        email varchar(255) NOT NULL,
        name varchar(100),
        password_hash varchar(100) NOT NULL,
        role varchar(10) NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
        level varchar(20) NOT NULL DEFAULT 'free' REFERENCES plans(id),
        status varchar(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleted')),
        email_verified boolean NOT NULL DEFAULT false,
        avatar_url varchar(500),
        failed_login_count integer NOT NULL DEFAULT 0,
        failed_login_window_start timestamptz,
        locked_until timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        last_login_at timestamptz
      )`);
    // Case-insensitive uniqueness enforced by the database, so concurrent
    // registrations cannot both succeed.
    await db.query(`CREATE UNIQUE INDEX users_username_lower_key ON users (lower(username))`);
    await db.query(`CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))`);
    await db.query(`CREATE INDEX users_created_at_idx ON users (created_at)`);

    await db.query(`
      CREATE TABLE user_sessions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        refresh_token_hash char(64) NOT NULL,
        ip varchar(64),
        user_agent varchar(500),
        created_at timestamptz NOT NULL DEFAULT now(),
        last_used_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        revoked_reason varchar(30)
      )`);
    await db.query(`CREATE INDEX user_sessions_user_id_idx ON user_sessions (user_id, created_at)`);
    await db.query(`CREATE INDEX user_sessions_expires_at_idx ON user_sessions (expires_at)`);

    await db.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        key_hash char(64) NOT NULL,
        display_prefix varchar(20) NOT NULL,
        scopes text[] NOT NULL DEFAULT '{}',
        expires_at timestamptz,
        enabled boolean NOT NULL DEFAULT true,
        last_used_at timestamptz,
        usage_count bigint NOT NULL DEFAULT 0,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE UNIQUE INDEX api_keys_key_hash_key ON api_keys (key_hash)`);
    await db.query(`CREATE INDEX api_keys_user_id_idx ON api_keys (user_id, created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE api_keys');
    await db.query('DROP TABLE user_sessions');
    await db.query('DROP TABLE users');
    await db.query('DROP TABLE plans');
  }
}
