import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Code runs and the daily execution quota. A run's row is written when it is
 * accepted (queued) and completed when it ends; the quota row for (user, UTC
 * day, source) is incremented in the same statement that inserts the run, so
 * concurrent requests at the boundary cannot overshoot.
 */
export class Executions1764000000000 implements MigrationInterface {
  name = 'Executions1764000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE executions (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        api_key_id uuid REFERENCES api_keys (id) ON DELETE SET NULL,
        source varchar(10) NOT NULL CHECK (source IN ('web', 'api')),
        language varchar(20) NOT NULL,
        environment varchar(100) NOT NULL DEFAULT 'system',
        environment_id uuid,
        code text NOT NULL,
        stdin text NOT NULL DEFAULT '',
        args jsonb NOT NULL DEFAULT '[]',
        files jsonb NOT NULL DEFAULT '[]',
        tests jsonb,
        status varchar(20) NOT NULL CHECK (status IN ('queued', 'running', 'success', 'error', 'timeout',
          'memory_limit', 'output_limit', 'killed', 'internal_error')),
        exit_code integer,
        stdout text NOT NULL DEFAULT '',
        stderr text NOT NULL DEFAULT '',
        stdout_truncated boolean NOT NULL DEFAULT false,
        stderr_truncated boolean NOT NULL DEFAULT false,
        execution_time_ms integer,
        cpu_time_ms integer,
        memory_used_kb integer,
        timeout_ms integer NOT NULL,
        memory_mb integer NOT NULL,
        idempotency_key varchar(200),
        created_at timestamptz NOT NULL DEFAULT now(),
        started_at timestamptz,
        finished_at timestamptz
      )`);
    await db.query(`CREATE INDEX executions_user_id_idx ON executions (user_id, created_at DESC)`);
    await db.query(`CREATE INDEX executions_created_at_idx ON executions (created_at DESC)`);
    await db.query(`CREATE UNIQUE INDEX executions_idempotency_key ON executions (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    // Runs left queued or running by a crashed replica are found by this.
    await db.query(`CREATE INDEX executions_unfinished_idx ON executions (created_at) WHERE status IN ('queued', 'running')`);

    await db.query(`
      CREATE TABLE execution_quota_usage (
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        day date NOT NULL,
        source varchar(10) NOT NULL CHECK (source IN ('web', 'api')),
        used integer NOT NULL,
        PRIMARY KEY (user_id, day, source)
      )`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE execution_quota_usage`);
    await db.query(`DROP TABLE executions`);
  }
}
