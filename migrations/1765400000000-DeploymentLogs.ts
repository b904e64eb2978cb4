import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deployed apps' output lines and the platform's events about them, partitioned
 * by month like audit_logs, kept RETENTION_LOGS_DAYS (registered in
 * src/database/partitioned-tables.ts, so partitions.maintain creates the months
 * ahead and retention.purge drops the old ones).
 *
 * - The line's time is `created_at` (the API calls it `timestamp`): the
 *   partition maintainer moves and purges rows of every registered table by
 *   that column name.
 * - `seq` orders lines of the same instant (in the order they were written)
 *   and makes the list's cursor exact.
 * - The primary key (deployment_id, created_at, seq) is also the list's index:
 *   read backwards it is (deployment_id, created_at DESC, seq DESC), the
 *   newest-first order of GET /deployments/:id/logs, so each line costs one
 *   index, not two. It includes the partition key, as PostgreSQL requires.
 * - No foreign key to deployments: a partitioned table's rows are removed with
 *   their deployment explicitly (DeploymentLogWriter.removeAll), and old months
 *   by dropping partitions.
 * - This month's and next month's partitions are created here, so lines go to
 *   their month even before the maintainer first runs; the DEFAULT partition
 *   catches anything outside them until it does.
 */
export class DeploymentLogs1765400000000 implements MigrationInterface {
  name = 'DeploymentLogs1765400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE deployment_logs (
        seq bigserial NOT NULL,
        deployment_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        level varchar(8) NOT NULL CHECK (level IN ('debug', 'info', 'warn', 'error')),
        source varchar(16) NOT NULL CHECK (source IN ('stdout', 'stderr', 'platform')),
        message text NOT NULL,
        truncated boolean NOT NULL DEFAULT false,
        metadata jsonb NOT NULL DEFAULT '{}',
        PRIMARY KEY (deployment_id, created_at, seq)
      ) PARTITION BY RANGE (created_at)`);
    await db.query(`CREATE TABLE deployment_logs_default PARTITION OF deployment_logs DEFAULT`);
    const now = new Date();
    for (const offset of [0, 1]) {
      // Named as src/database/partitions.ts names months (<table>_pYYYYMM), in UTC.
      const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
      const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset + 1, 1));
      const name = `deployment_logs_p${from.getUTCFullYear()}${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
      await db.query(`CREATE TABLE ${name} PARTITION OF deployment_logs FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE deployment_logs`);
  }
}
