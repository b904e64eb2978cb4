/** A metadata value: a scalar, or a list of scalars (e.g. the names of the fields a request set). */
export type AuditMetadataValue = string | number | boolean | null | AuditMetadataValue[];
export type AuditMetadata = Record<string, AuditMetadataValue>;

/** One audit log row. What a request hands the writer may hold anything in metadata; the writer queues it bounded (acceptable-entry.ts). */
export interface AuditEntry {
  created_at: Date;
  user_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  status_code: number;
  method: string;
  path: string;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  duration_ms: number | null;
  metadata: Record<string, unknown>;
}

export const AUDIT_COLUMNS = [
  'created_at', 'user_id', 'action', 'resource_type', 'resource_id', 'status_code', 'method', 'path',
  'ip', 'user_agent', 'request_id', 'duration_ms', 'metadata',
] as const;
