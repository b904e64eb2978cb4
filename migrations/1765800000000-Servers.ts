import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Servers and their metrics (the monitoring context).
 *
 * servers: one row per watched machine. `user_id` is the owner; the
 * platform's own host (`is_local`, at most one row, registered at start-up)
 * has no owner (NULL) and is seen and managed by admins only. `status` is the
 * probes' verdict (`unknown` until the first probe), `status_since` the
 * `checked_at` of the first probe that saw the current status,
 * `probe_interval_seconds` a per-server override of MONITOR_PROBE_INTERVAL_SECONDS
 * (NULL: the default), `last_seen_at` the last time an agent pushed metrics.
 *
 * server_metrics: one row per sample (the host sampler for `local`, agents'
 * pushes for the others), partitioned by month on `recorded_at` and kept
 * RETENTION_METRICS_DAYS (registered in src/database/partitioned-tables.ts
 * with `recorded_at` as its time column). Percents are 0–100, network bytes
 * are counters' deltas over the sample's interval, load_1m the load average.
 * No foreign key (a partitioned table's rows go by dropping months); readers
 * join servers, so a deleted server's rows are not shown.
 */
export class Servers1765800000000 implements MigrationInterface {
  name = 'Servers1765800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE servers (
        id uuid PRIMARY KEY,
        user_id uuid REFERENCES users (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        host varchar(253) NOT NULL,
        port integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
        description varchar(1000),
        tags text[] NOT NULL DEFAULT '{}',
        os varchar(100),
        status varchar(8) NOT NULL DEFAULT 'unknown' CHECK (status IN ('online', 'offline', 'unknown')),
        monitored boolean NOT NULL DEFAULT false,
        probe_interval_seconds integer CHECK (probe_interval_seconds BETWEEN 60 AND 86400),
        latency_ms real,
        checked_at timestamptz,
        status_since timestamptz,
        last_seen_at timestamptz,
        is_local boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK (is_local OR user_id IS NOT NULL)
      )`);
    await db.query(`CREATE INDEX servers_user_created_idx ON servers (user_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX servers_monitored_idx ON servers (checked_at NULLS FIRST) WHERE monitored`);
    await db.query(`CREATE UNIQUE INDEX servers_local_idx ON servers (is_local) WHERE is_local`);
    await db.query(`
      CREATE TABLE server_metrics (
        server_id uuid NOT NULL,
        recorded_at timestamptz NOT NULL,
        cpu_percent real,
        memory_percent real,
        disk_percent real,
        network_in_bytes bigint,
        network_out_bytes bigint,
        load_1m real
      ) PARTITION BY RANGE (recorded_at)`);
    await db.query(`CREATE INDEX server_metrics_server_time_idx ON server_metrics (server_id, recorded_at DESC)`);
    await db.query(`CREATE TABLE server_metrics_default PARTITION OF server_metrics DEFAULT`);
    const now = new Date();
    for (const offset of [0, 1]) {
      // Named as src/database/partitions.ts names months (<table>_pYYYYMM), in UTC.
      const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1));
      const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset + 1, 1));
      const name = `server_metrics_p${from.getUTCFullYear()}${String(from.getUTCMonth() + 1).padStart(2, '0')}`;
      await db.query(`CREATE TABLE ${name} PARTITION OF server_metrics FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`);
    }
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE server_metrics`);
    await db.query(`DROP TABLE servers`);
  }
}
