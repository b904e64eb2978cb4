import { AuditEntry, AuditMetadata, AuditMetadataValue } from './audit-entry';

/**
 * Makes an audit entry acceptable to PostgreSQL before it is queued, whatever
 * a request sent: one value COPY refuses would fail its whole batch. Every
 * string becomes well-formed UTF-16 (a lone surrogate becomes U+FFFD, as it
 * would in UTF-8) without NUL characters, and is cut to its column's length;
 * metadata becomes a flat object of small values (at most 256 bytes a value,
 * 4 kB in all), so no request can make an entry large or deep.
 */

/** varchar lengths of audit_logs (migration AuditAndJobRuns). */
const MAX_CHARS = {
  action: 64, resource_type: 64, resource_id: 128, method: 10, path: 500, ip: 64, user_agent: 500, request_id: 128,
} as const;

export const METADATA_VALUE_BYTES = 256;
export const METADATA_BYTES = 4096;
const METADATA_KEY_CHARS = 64;
/** Room kept for the `"truncated":true` marker. */
const TRUNCATED_MARKER_BYTES = 20;
const SMALLINT_MAX = 32_767;
const INT_MAX = 2_147_483_647;

/** Well-formed, NUL-free text of at most `maxChars` UTF-16 code units (so at most that many characters). */
export function acceptableText(value: string, maxChars: number): string {
  let text = value.length > maxChars ? value.slice(0, maxChars) : value;
  // A cut may split a surrogate pair; toWellFormed turns the half left into U+FFFD.
  if (!text.isWellFormed()) text = text.toWellFormed();
  return text.includes('\0') ? text.replace(/\0/g, '\uFFFD') : text;
}

function nullableText(value: string | null | undefined, maxChars: number): string | null {
  return typeof value === 'string' ? acceptableText(value, maxChars) : null;
}

/** `text` cut to at most `maxBytes` bytes of UTF-8, never inside a character. `text` is well-formed. */
function cutToBytes(text: string, maxBytes: number): string {
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text) <= maxBytes) return text;
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const unit = text.charCodeAt(i);
    const pair = unit >= 0xd800 && unit <= 0xdbff;
    const size = unit < 0x80 ? 1 : unit < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + size > maxBytes) break;
    bytes += size;
    i += pair ? 2 : 1;
  }
  return text.slice(0, i);
}

/** One bounded metadata value; undefined for what metadata does not hold (objects, functions). */
function metadataValue(value: unknown): AuditMetadataValue | undefined {
  switch (typeof value) {
    case 'string':
      // Cut by characters first so a megabyte string is not scanned whole.
      return cutToBytes(acceptableText(value, METADATA_VALUE_BYTES), METADATA_VALUE_BYTES);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return cutToBytes(value.toString(), METADATA_VALUE_BYTES);
    case 'object':
      if (value === null) return null;
      return Array.isArray(value) ? metadataList(value) : undefined;
    default:
      return undefined;
  }
}

/** A list of scalars (e.g. field names), as many of its first items as fit in one value's bytes. */
function metadataList(items: unknown[]): AuditMetadataValue[] {
  const list: AuditMetadataValue[] = [];
  let bytes = 2;
  for (const item of items) {
    if (item !== null && typeof item === 'object') continue;
    const value = metadataValue(item);
    if (value === undefined) continue;
    bytes += jsonBytes(value) + 1;
    if (bytes > METADATA_VALUE_BYTES) break;
    list.push(value);
  }
  return list;
}

function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/** A flat object of bounded values, at most METADATA_BYTES as JSON; `truncated: true` when fields were left out. */
export function acceptableMetadata(metadata: Record<string, unknown> | null | undefined): AuditMetadata {
  const result: AuditMetadata = {};
  if (!metadata || typeof metadata !== 'object') return result;
  let bytes = 2;
  for (const key of Object.keys(metadata)) {
    const value = metadataValue(metadata[key]);
    if (value === undefined) continue;
    const name = acceptableText(key, METADATA_KEY_CHARS);
    const size = jsonBytes(name) + jsonBytes(value) + 2;
    if (bytes + size > METADATA_BYTES - TRUNCATED_MARKER_BYTES) {
      result.truncated = true;
      break;
    }
    result[name] = value;
    bytes += size;
  }
  return result;
}

function clampInt(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, Math.round(value))) : min;
}

/** A copy of `entry` that COPY accepts, column by column. */
export function acceptableEntry(entry: AuditEntry): AuditEntry {
  const createdAt = entry.created_at instanceof Date && Number.isFinite(entry.created_at.getTime()) ? entry.created_at : new Date();
  return {
    created_at: createdAt,
    user_id: entry.user_id,
    action: acceptableText(String(entry.action), MAX_CHARS.action),
    resource_type: nullableText(entry.resource_type, MAX_CHARS.resource_type),
    resource_id: nullableText(entry.resource_id, MAX_CHARS.resource_id),
    status_code: clampInt(entry.status_code, 0, SMALLINT_MAX),
    method: acceptableText(String(entry.method), MAX_CHARS.method),
    path: acceptableText(String(entry.path), MAX_CHARS.path),
    ip: nullableText(entry.ip, MAX_CHARS.ip),
    user_agent: nullableText(entry.user_agent, MAX_CHARS.user_agent),
    request_id: nullableText(entry.request_id, MAX_CHARS.request_id),
    duration_ms: entry.duration_ms === null ? null : clampInt(entry.duration_ms, 0, INT_MAX),
    metadata: acceptableMetadata(entry.metadata),
  };
}
