import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log and the maintenance job history: both partitioned by month on
 * created_at. The DEFAULT partition is the safety net that makes an insert
 * succeed even before the maintainer created that month's partition; the
 * maintainer moves such rows out when it creates the month.
 */
export class AuditAndJobRuns1763900000000 implements MigrationInterface {
  name = 'AuditAndJobRuns1763900000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE audit_logs (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        created_at timestamptz NOT NULL DEFAULT now(),
        user_id uuid,
        action varchar(64) NOT NULL,
        resource_type varchar(64),
        resource_id varchar(128),
        status_code smallint NOT NULL,
        method varchar(10) NOT NULL,
        path varchar(500) NOT NULL,
        ip varchar(64),
        user_agent varchar(500),
        request_id varchar(128),
        duration_ms integer,
        metadata jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (id, created_at)
      ) PARTITION BY RANGE (created_at)`);
    await db.query(`CREATE TABLE audit_logs_default PARTITION OF audit_logs DEFAULT`);
    await db.query(`CREATE INDEX audit_logs_created_at_idx ON audit_logs (created_at)`);
    await db.query(`CREATE INDEX audit_logs_user_id_idx ON audit_logs (user_id, created_at)`);
    // No index on resource_type: every action names one resource type, so the
    // action index answers resource-type questions too, and each index is paid
    // for on every audited request.
    await db.query(`CREATE INDEX audit_logs_action_idx ON audit_logs (action, created_at)`);

    await db.query(`
      CREATE TABLE job_runs (
        id uuid NOT NULL DEFAULT gen_random_uuid(),
        created_at timestamptz NOT NULL DEFAULT now(),
        job_name varchar(100) NOT NULL,
        trigger varchar(20) NOT NULL CHECK (trigger IN ('schedule', 'startup', 'manual')),
        scheduled_for timestamptz,
        finished_at timestamptz,
        status varchar(20) NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
        output jsonb,
        error text,
        instance varchar(100),
        PRIMARY KEY (id, created_at)
      ) PARTITION BY RANGE (created_at)`);
    await db.query(`CREATE TABLE job_runs_default PARTITION OF job_runs DEFAULT`);
    await db.query(`CREATE INDEX job_runs_job_name_idx ON job_runs (job_name, created_at)`);
    await db.query(`CREATE INDEX job_runs_scheduled_for_idx ON job_runs (job_name, scheduled_for)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE job_runs');
    await db.query('DROP TABLE audit_logs');
  }
}
