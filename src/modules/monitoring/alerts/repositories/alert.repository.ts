import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AlertRow, AlertStatus, SAMPLE_METRICS, SampleMetric } from '../alert-rule';

const ALERT_COLUMNS = (a: string) => `${a}.id, ${a}.rule_id AS "ruleId", ${a}.server_id AS "serverId", ${a}.user_id AS "userId", ${a}.metric,
  ${a}.operator, ${a}.threshold, ${a}.duration_s AS "durationS", ${a}.status, ${a}.value, ${a}.message, ${a}.started_at AS "startedAt",
  ${a}.fired_at AS "firedAt", ${a}.resolved_at AS "resolvedAt", ${a}.resolution`;

export interface AlertFilters {
  status?: AlertStatus;
  serverId?: string;
}

/** An alert the evaluation opened or resolved, with its server's name (for the notification). */
export interface AlertChange extends AlertRow {
  change: 'opened' | 'resolved';
  serverName: string | null;
}

/**
 * A sample is evidence for a rule only if it is this recent (seconds before
 * the evaluation): a server whose agent went quiet has no metric alerts open
 * (server_offline is the rule for a server that went away).
 */
export const STALE_AFTER_S = 600;
/**
 * How far before `latest - duration_s` the sample that starts the window may
 * lie. The window must begin at a sample at or before latest - duration_s
 * (else the samples do not span duration_s); a gap longer than this in the
 * samples does not count as the condition holding.
 */
export const MAX_GAP_S = 600;

/**
 * Percents and load are `real`: they are compared in double precision through
 * numeric (real → numeric keeps the 6 significant digits written, so a stored
 * 90.1 is 90.1, and 90.1 >= 90.1 holds), never by casting the threshold to
 * real (a threshold real cannot hold would fail the whole evaluation).
 */
const REAL_METRICS: readonly SampleMetric[] = ['cpu_percent', 'memory_percent', 'disk_percent', 'load_1m'];

/** The sample's value of the rule's metric, as float8 (reals through numeric, so 90.1 stays 90.1). */
function valueOf(sample: string, rule: string): string {
  const arms = SAMPLE_METRICS.map((metric) =>
    `WHEN '${metric}' THEN ${sample}.${metric}${REAL_METRICS.includes(metric) ? '::numeric' : ''}::float8`).join(' ');
  return `CASE ${rule}.metric ${arms} END`;
}

/** Whether the sample satisfies the rule (false, not null, when the sample lacks the metric). */
function holds(sample: string, rule: string): string {
  const compare = (value: string, threshold: string) =>
    `CASE ${rule}.operator WHEN 'gt' THEN ${value} > ${threshold} WHEN 'gte' THEN ${value} >= ${threshold} ` +
    `WHEN 'lt' THEN ${value} < ${threshold} WHEN 'lte' THEN ${value} <= ${threshold} END`;
  const arms = SAMPLE_METRICS.map((metric) =>
    REAL_METRICS.includes(metric)
      ? `WHEN '${metric}' THEN ${compare(`${sample}.${metric}::numeric::float8`, `${rule}.threshold`)}`
      : `WHEN '${metric}' THEN ${compare(`${sample}.${metric}::float8`, `${rule}.threshold`)}`).join(' ');
  return `coalesce(CASE ${rule}.metric ${arms} END, false)`;
}

const SYMBOL = `CASE f.operator WHEN 'gt' THEN '>' WHEN 'gte' THEN '>=' WHEN 'lt' THEN '<' ELSE '<=' END`;

/**
 * One statement evaluates every enabled rule on every server it covers
 * (alerts-evaluation.job.ts says what firing means), opens the alerts that fire and
 * are not open (the partial unique index alerts_one_open_idx makes that
 * idempotent, also for two evaluations at once) and resolves the open ones
 * whose condition no longer holds. Returns what changed. Scheduled runs never
 * overlap (the maintenance job's advisory lock); runs called directly at once
 * stay correct, and at worst one of them fails on a deadlock PostgreSQL
 * breaks, leaving its work to the other.
 */
const EVALUATE = `
WITH pairs AS (
  SELECT r.id AS rule_id, r.user_id, r.metric, r.operator, r.threshold, r.duration_s,
         s.id AS server_id, s.monitored, s.status, s.checked_at, s.status_since
    FROM alert_rules r JOIN servers s ON s.id = r.server_id
   WHERE r.enabled
  UNION ALL
  SELECT r.id, r.user_id, r.metric, r.operator, r.threshold, r.duration_s, s.id, s.monitored, s.status, s.checked_at, s.status_since
    FROM alert_rules r JOIN servers s ON s.user_id = r.user_id
   WHERE r.enabled AND r.server_id IS NULL
  UNION ALL
  SELECT r.id, r.user_id, r.metric, r.operator, r.threshold, r.duration_s, s.id, s.monitored, s.status, s.checked_at, s.status_since
    FROM alert_rules r JOIN users u ON u.id = r.user_id AND u.role = 'admin' JOIN servers s ON s.is_local
   WHERE r.enabled AND r.server_id IS NULL
),
sampled_servers AS (
  SELECT DISTINCT server_id FROM pairs WHERE metric <> 'server_offline'
),
newest AS (
  SELECT n.*
    FROM sampled_servers ss
    CROSS JOIN LATERAL (
      SELECT m.* FROM server_metrics m
       WHERE m.server_id = ss.server_id AND m.recorded_at > $1::timestamptz - make_interval(secs => ${STALE_AFTER_S})
       ORDER BY m.recorded_at DESC
       LIMIT 1
    ) n
),
latest AS (
  SELECT p.*, n.recorded_at AS latest_at, ${valueOf('n', 'p')} AS value
    FROM pairs p JOIN newest n ON n.server_id = p.server_id
   WHERE p.metric <> 'server_offline' AND ${holds('n', 'p')}
),
metric_firing AS (
  SELECT x.rule_id, x.user_id, x.server_id, x.metric, x.operator, x.threshold, x.duration_s, x.value, w.start_at AS started_at
    FROM latest x
    CROSS JOIN LATERAL (
      SELECT max(m.recorded_at) AS start_at
        FROM server_metrics m
       WHERE m.server_id = x.server_id
         AND m.recorded_at <= x.latest_at - make_interval(secs => x.duration_s)
         AND m.recorded_at >= x.latest_at - make_interval(secs => x.duration_s + ${MAX_GAP_S})
    ) w
   WHERE w.start_at IS NOT NULL
     AND NOT EXISTS (
       SELECT 1 FROM server_metrics m
        WHERE m.server_id = x.server_id AND m.recorded_at >= w.start_at AND m.recorded_at <= x.latest_at AND NOT ${holds('m', 'x')}
     )
),
offline_firing AS (
  SELECT p.rule_id, p.user_id, p.server_id, p.metric, p.operator, p.threshold, p.duration_s,
         extract(epoch FROM p.checked_at - p.status_since)::float8 AS value, p.status_since AS started_at
    FROM pairs p
   WHERE p.metric = 'server_offline' AND p.monitored AND p.status = 'offline'
     AND p.checked_at - p.status_since >= make_interval(secs => p.duration_s)
),
firing AS MATERIALIZED (
  SELECT * FROM metric_firing UNION ALL SELECT * FROM offline_firing
),
opened AS (
  INSERT INTO alerts (id, rule_id, server_id, user_id, metric, operator, threshold, duration_s, status, value, message, started_at, fired_at)
  SELECT gen_random_uuid(), f.rule_id, f.server_id, f.user_id, f.metric, f.operator, f.threshold, f.duration_s, 'open', f.value,
         CASE WHEN f.metric = 'server_offline' THEN format('offline for %s s', round(f.value)::bigint)
              ELSE format('%s %s %s for %s s (latest %s)', f.metric, ${SYMBOL}, trim_scale(f.threshold::numeric), f.duration_s,
                          trim_scale(round(f.value::numeric, 2))) END,
         f.started_at, now()
    FROM firing f
  ON CONFLICT (rule_id, server_id) WHERE status = 'open' DO NOTHING
  RETURNING *
),
resolved AS (
  UPDATE alerts a
     SET status = 'resolved', resolved_at = now(), resolution = CASE WHEN a.rule_id IS NULL THEN 'rule_deleted' ELSE 'recovered' END
   WHERE a.status = 'open'
     AND NOT EXISTS (SELECT 1 FROM firing f WHERE f.rule_id = a.rule_id AND f.server_id = a.server_id)
  RETURNING a.*
)
SELECT 'opened' AS change, ${ALERT_COLUMNS('o')}, s.name AS "serverName" FROM opened o LEFT JOIN servers s ON s.id = o.server_id
UNION ALL
SELECT 'resolved', ${ALERT_COLUMNS('r')}, s.name FROM resolved r LEFT JOIN servers s ON s.id = r.server_id`;

/** `alerts` (migration 1765900000000-AlertRules; no entity): the evaluation's statement and the reads. */
@Injectable()
export class AlertRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Evaluates every enabled rule at `now`; the alerts opened and resolved. */
  evaluate(now: Date): Promise<AlertChange[]> {
    return this.dataSource.query(EVALUATE, [now]);
  }

  /** One page of a user's alerts, newest first (fired_at), and how many match. */
  async list(userId: string, filters: AlertFilters, page: { page: number; limit: number }): Promise<{ rows: AlertRow[]; total: number }> {
    const where = ['a.user_id = $1'];
    const params: unknown[] = [userId];
    if (filters.status) where.push(`a.status = $${params.push(filters.status)}`);
    if (filters.serverId) where.push(`a.server_id = $${params.push(filters.serverId)}`);
    const sql = where.join(' AND ');
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT ${ALERT_COLUMNS('a')} FROM alerts a WHERE ${sql} ORDER BY a.fired_at DESC, a.id DESC LIMIT ${page.limit} OFFSET ${(page.page - 1) * page.limit}`,
        params,
      ) as Promise<AlertRow[]>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM alerts a WHERE ${sql}`, params) as Promise<Array<{ total: number }>>,
    ]);
    return { rows, total };
  }

  /** A user's newest open alerts, at most `limit`. */
  openNewest(userId: string, limit: number): Promise<AlertRow[]> {
    return this.dataSource.query(
      `SELECT ${ALERT_COLUMNS('a')} FROM alerts a WHERE a.user_id = $1 AND a.status = 'open' ORDER BY a.fired_at DESC, a.id DESC LIMIT $2`,
      [userId, limit],
    );
  }
}
