import { AuditEntry } from './audit-entry';

/** An audit entry as the API shows it. */
export type AuditLogView = Omit<AuditEntry, 'created_at'> & { id: string; created_at: string };

export function toAuditLogView(row: Record<string, any>): AuditLogView {
  return {
    id: row.id,
    created_at: (row.created_at as Date).toISOString(),
    user_id: row.user_id,
    action: row.action,
    resource_type: row.resource_type,
    resource_id: row.resource_id,
    status_code: Number(row.status_code),
    method: row.method,
    path: row.path,
    ip: row.ip,
    user_agent: row.user_agent,
    request_id: row.request_id,
    duration_ms: row.duration_ms === null ? null : Number(row.duration_ms),
    metadata: row.metadata,
  };
}

/** Every log query is bounded in time, so it reads only the partitions it needs. */
export const DEFAULT_PERIOD_DAYS = 30;

export function periodOf(from: Date | undefined, to: Date | undefined, now = new Date()): { from: Date; to: Date } {
  const end = to ?? now;
  return { from: from ?? new Date(end.getTime() - DEFAULT_PERIOD_DAYS * 86_400_000), to: end };
}
