/**
 * What an alert rule watches. The sample metrics are server_metrics' columns,
 * named as agents send them (POST /monitor/servers/:id/metrics);
 * `server_offline` is the probes' verdict and takes no operator or threshold.
 */
export const SAMPLE_METRICS = ['cpu_percent', 'memory_percent', 'disk_percent', 'network_in_bytes', 'network_out_bytes', 'load_1m'] as const;
export type SampleMetric = (typeof SAMPLE_METRICS)[number];
export const ALERT_METRICS = [...SAMPLE_METRICS, 'server_offline'] as const;
export type AlertMetric = (typeof ALERT_METRICS)[number];

export const ALERT_OPERATORS = ['gt', 'gte', 'lt', 'lte'] as const;
export type AlertOperator = (typeof ALERT_OPERATORS)[number];

export const ALERT_STATUSES = ['open', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Why an alert was resolved: its condition stopped holding, or its rule changed, was disabled or deleted. */
export const ALERT_RESOLUTIONS = ['recovered', 'rule_changed', 'rule_disabled', 'rule_deleted'] as const;
export type AlertResolution = (typeof ALERT_RESOLUTIONS)[number];

/** The longest duration_s: one day (the evaluation reads samples that far back). */
export const MAX_DURATION_S = 86_400;

/** The thresholds each sample metric accepts: percents 0–100, byte counts and load from 0. */
export const THRESHOLD_RANGES: Record<SampleMetric, { min: number; max: number }> = {
  cpu_percent: { min: 0, max: 100 },
  memory_percent: { min: 0, max: 100 },
  disk_percent: { min: 0, max: 100 },
  network_in_bytes: { min: 0, max: Number.MAX_SAFE_INTEGER },
  network_out_bytes: { min: 0, max: Number.MAX_SAFE_INTEGER },
  load_1m: { min: 0, max: 1_000_000 },
};

export const isSampleMetric = (metric: string): metric is SampleMetric => (SAMPLE_METRICS as readonly string[]).includes(metric);

/** An alert rule as stored (alert_rules, migration 1765900000000-AlertRules). */
export interface AlertRuleRow {
  id: string;
  userId: string;
  name: string | null;
  metric: AlertMetric;
  operator: AlertOperator | null;
  threshold: number | null;
  durationS: number;
  serverId: string | null;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** An alert as stored (alerts); the rule's definition is copied in when it fires. */
export interface AlertRow {
  id: string;
  ruleId: string | null;
  serverId: string;
  userId: string;
  metric: AlertMetric;
  operator: AlertOperator | null;
  threshold: number | null;
  durationS: number;
  status: AlertStatus;
  value: number | null;
  message: string;
  startedAt: Date;
  firedAt: Date;
  resolvedAt: Date | null;
  resolution: AlertResolution | null;
}

/** The fields a rule is written with (POST, and PUT for those sent). */
export interface AlertRuleInput {
  name?: string | null;
  metric: AlertMetric;
  operator?: AlertOperator | null;
  threshold?: number | null;
  duration_s?: number;
  server_id?: string | null;
  enabled?: boolean;
}
