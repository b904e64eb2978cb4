import type { AlertMetric, AlertOperator, AlertResolution, AlertRow, AlertRuleRow, AlertStatus } from './alert-rule';

/** A rule on the wire (a whitelist of the row: never its owner). */
export interface AlertRuleJson {
  id: string;
  name: string | null;
  metric: AlertMetric;
  operator: AlertOperator | null;
  threshold: number | null;
  duration_s: number;
  server_id: string | null;
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

/** An alert on the wire. */
export interface AlertJson {
  id: string;
  rule_id: string | null;
  server_id: string;
  metric: AlertMetric;
  operator: AlertOperator | null;
  threshold: number | null;
  duration_s: number;
  status: AlertStatus;
  value: number | null;
  message: string;
  started_at: string;
  fired_at: string;
  resolved_at: string | null;
  resolution: AlertResolution | null;
}

export function toAlertRuleJson(row: AlertRuleRow): AlertRuleJson {
  return {
    id: row.id,
    name: row.name,
    metric: row.metric,
    operator: row.operator,
    threshold: row.threshold,
    duration_s: row.durationS,
    server_id: row.serverId,
    enabled: row.enabled,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toAlertJson(row: AlertRow): AlertJson {
  return {
    id: row.id,
    rule_id: row.ruleId,
    server_id: row.serverId,
    metric: row.metric,
    operator: row.operator,
    threshold: row.threshold,
    duration_s: row.durationS,
    status: row.status,
    value: row.value,
    message: row.message,
    started_at: row.startedAt.toISOString(),
    fired_at: row.firedAt.toISOString(),
    resolved_at: row.resolvedAt?.toISOString() ?? null,
    resolution: row.resolution,
  };
}
