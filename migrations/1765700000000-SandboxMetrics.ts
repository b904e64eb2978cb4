import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Deployed apps' resource samples: one row per running app per sampling tick
 * of the replica running it (metrics.sample_deployments, every
 * DEPLOY_METRICS_INTERVAL_SECONDS), partitioned by month like deployment_logs
 * and kept RETENTION_METRICS_DAYS (registered in
 * src/database/partitioned-tables.ts, so partitions.maintain creates the months
 * ahead and retention.purge drops the old ones).
 *
 * - The sample's time is `created_at`: the partition maintainer moves and
 *   purges rows of every registered table by that column name.
 * - cpu_percent is over the interval since the app's previous sample (100 is
 *   one core busy the whole time); requests and errors are counts within that
 *   interval, so sums over any range are exact; memory and disk are the value
 *   at the sample. network_in/out are 0 today: an app's only network device is
 *   its namespace's loopback, and its traffic is the proxy's requests.
 * - The index (deployment_id, created_at) is what the time-series buckets and
 *   the summary read; no primary key (nothing addresses one sample).
 * - No foreign key to deployments (a partitioned table's rows go by dropping
 *   months); readers join deployments, so a deleted one's rows are not shown.
 * - This month's and next month's partitions are created here, the DEFAULT
 *   partition catches anything outside them until the maintainer runs.
 */
export class SandboxMetrics1765700000000 implements MigrationInterface {
  name = 'SandboxMetrics1765700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE sandbox_metrics (
        deployment_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        cpu_percent real,
        memory_bytes bigint,
        disk_bytes bigint,
        network_in_bytes bigint,
        network_out_bytes bigint,
        requests integer,
        errors integer
      ) PARTITION BY RANGE (created_at)`);
    await db.query(`CREATE INDEX sandbox_metrics_deployment_time_idx ON sandbox_metrics (deployment_id, created_at)`);
    await db.query(`CREATE TABLE sandbox_metrics_default PARTITION OF sandbox_metrics DEFAULT`);
    const now = new Date();
    for (const offset of [0, 1]) {
      // Named as src/database/partitions.ts names months (<table>_pYYYYMM), in UTC.
      const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
      const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset + 1, 1));
      const name = `sandbox_metrics_p${from.getUTCFullYear()}${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
      await db.query(`CREATE TABLE ${name} PARTITION OF sandbox_metrics FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE sandbox_metrics`);
  }
}
