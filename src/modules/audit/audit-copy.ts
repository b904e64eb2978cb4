import { COPY_BYTES, COPY_HEADER, COPY_TRAILER, CopyRowEncoder, copyFromStdinSql, copyStream as encodeCopyStream, maxUtf8Bytes } from '../../common/database/copy-encoding';
import { AUDIT_COLUMNS, AuditEntry } from './audit-entry';

/**
 * Audit entries in PostgreSQL's binary COPY format (the encoding itself is
 * common/database/copy-encoding.ts). Entries reach the encoder already made
 * acceptable (acceptable-entry.ts); a user id that is not a uuid is stored as
 * NULL here.
 */

export const COPY_COLUMNS = ['id', ...AUDIT_COLUMNS] as const;
export const COPY_SQL = copyFromStdinSql('audit_logs', COPY_COLUMNS);
export { COPY_HEADER, COPY_TRAILER };

/** Field count, a length word per column, two uuids, timestamp, smallint, integer, jsonb version. */
const FIXED_ROW_BYTES = COPY_BYTES.fieldCount + COPY_COLUMNS.length * COPY_BYTES.length + 2 * COPY_BYTES.uuid + COPY_BYTES.timestamptz +
  COPY_BYTES.smallint + COPY_BYTES.integer + COPY_BYTES.jsonbVersion;

/** One audit_logs row, in COPY_COLUMNS order; the id is a uuidv7 of the entry's time. */
export function auditRow(e: AuditEntry, encoder: CopyRowEncoder): void {
  const { action, resource_type: resourceType, resource_id: resourceId, method, path, ip, user_agent: userAgent, request_id: requestId } = e;
  const metadata = JSON.stringify(e.metadata);
  const chars = action.length + (resourceType?.length ?? 0) + (resourceId?.length ?? 0) + method.length + path.length +
    (ip?.length ?? 0) + (userAgent?.length ?? 0) + (requestId?.length ?? 0) + metadata.length;
  encoder.startRow(COPY_COLUMNS.length, FIXED_ROW_BYTES + maxUtf8Bytes(chars));
  encoder.uuidv7(e.created_at.getTime());
  encoder.timestamptz(e.created_at);
  encoder.uuid(e.user_id);
  encoder.text(action);
  encoder.text(resourceType);
  encoder.text(resourceId);
  encoder.smallint(e.status_code);
  encoder.text(method);
  encoder.text(path);
  encoder.text(ip);
  encoder.text(userAgent);
  encoder.text(requestId);
  encoder.integer(e.duration_ms);
  encoder.jsonb(metadata);
}

/** A whole COPY stream of `entries` (header, rows, trailer), a 64 kB chunk at a time (~250 rows). */
export function copyStream(entries: Iterable<AuditEntry>): Generator<Buffer> {
  return encodeCopyStream(entries, auditRow);
}
