import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Alert rules and the alerts they raise (the monitoring context's alerts,
 * src/modules/monitoring/alerts).
 *
 * alert_rules: a user's condition on their servers' samples. `metric` is a
 * server_metrics column as agents send it (cpu_percent, memory_percent,
 * disk_percent, network_in_bytes, network_out_bytes, load_1m) or
 * `server_offline` (the probes' verdict, which takes no operator and no
 * threshold: both NULL). `duration_s` (0 to one day) is how long the
 * condition must hold, counted on sample timestamps (probe times for
 * server_offline). `server_id` NULL means every server of the owner (for an
 * admin, the platform's `local` server too); a rule naming a server goes with
 * that server.
 *
 * alerts: one row per firing of a rule on a server, kept as history after it
 * resolves. The rule's definition is copied into the row, so an alert still
 * says what fired once its rule has changed or gone; deleting a rule resolves
 * its open alerts (`resolution` rule_deleted) and keeps them, rule_id NULL.
 * The partial unique index allows one open alert per rule and server,
 * whatever the number of evaluations running at once (INSERT … ON CONFLICT
 * DO NOTHING). Alerts go with their server and their user.
 */
export class AlertRules1765900000000 implements MigrationInterface {
  name = 'AlertRules1765900000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE alert_rules (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        name varchar(100),
        metric varchar(20) NOT NULL CHECK (metric IN ('cpu_percent', 'memory_percent', 'disk_percent', 'network_in_bytes', 'network_out_bytes', 'load_1m', 'server_offline')),
        operator varchar(3) CHECK (operator IN ('gt', 'gte', 'lt', 'lte')),
        threshold double precision,
        duration_s integer NOT NULL DEFAULT 0 CHECK (duration_s BETWEEN 0 AND 86400),
        server_id uuid REFERENCES servers (id) ON DELETE CASCADE,
        enabled boolean NOT NULL DEFAULT true,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CHECK ((metric = 'server_offline') = (operator IS NULL AND threshold IS NULL))
      )`);
    await db.query(`CREATE INDEX alert_rules_user_created_idx ON alert_rules (user_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX alert_rules_server_idx ON alert_rules (server_id) WHERE server_id IS NOT NULL`);
    await db.query(`
      CREATE TABLE alerts (
        id uuid PRIMARY KEY,
        rule_id uuid REFERENCES alert_rules (id) ON DELETE SET NULL,
        server_id uuid NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        metric varchar(20) NOT NULL,
        operator varchar(3),
        threshold double precision,
        duration_s integer NOT NULL,
        status varchar(8) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
        value double precision,
        message text NOT NULL,
        started_at timestamptz NOT NULL,
        fired_at timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz,
        resolution varchar(16) CHECK (resolution IN ('recovered', 'rule_changed', 'rule_disabled', 'rule_deleted')),
        CHECK ((status = 'open') = (resolved_at IS NULL AND resolution IS NULL))
      )`);
    await db.query(`CREATE UNIQUE INDEX alerts_one_open_idx ON alerts (rule_id, server_id) WHERE status = 'open'`);
    await db.query(`CREATE INDEX alerts_user_fired_idx ON alerts (user_id, fired_at DESC, id DESC)`);
    await db.query(`CREATE INDEX alerts_open_idx ON alerts (user_id, fired_at DESC) WHERE status = 'open'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE alerts`);
    await db.query(`DROP TABLE alert_rules`);
  }
}
