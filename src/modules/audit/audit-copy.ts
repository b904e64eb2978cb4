import { randomFillSync } from 'node:crypto';
import { AUDIT_COLUMNS, AuditEntry } from './audit-entry';

/**
 * Audit entries in PostgreSQL's binary COPY format. Measured on the 2-core
 * development machine against the text format used before: a server-side COPY
 * of 1 M rows into audit_logs costs the backend ~0.7 µs less CPU per row (of
 * ~5.5 µs; no timestamp, uuid or integer parsing), and encoding a row in Node
 * takes ~1.2 µs instead of ~2 µs.
 *
 * Entries reach the encoder already made acceptable (acceptable-entry.ts); a
 * user id that is not a uuid is stored as NULL here.
 */

export const COPY_COLUMNS = ['id', ...AUDIT_COLUMNS] as const;
export const COPY_SQL = `COPY audit_logs (${COPY_COLUMNS.join(', ')}) FROM STDIN WITH (FORMAT binary)`;

/** Signature, flags (no OIDs), header extension length 0. */
export const COPY_HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
/** A field count of -1 ends the data. */
export const COPY_TRAILER = Buffer.from([0xff, 0xff]);

const PG_EPOCH_MS = Date.UTC(2000, 0, 1);
const TWO_POW_32 = 2 ** 32;
/** Field count, 14 length words, two uuids, timestamp, smallint, integer, jsonb version. */
const FIXED_ROW_BYTES = 2 + COPY_COLUMNS.length * 4 + 16 + 8 + 16 + 2 + 4 + 1;

const HEX = new Int8Array(65536).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}
/** Where each byte's two hex digits start in a canonical uuid string. */
const UUID_PAIRS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/** Random bytes for uuidv7 ids, refilled 4096 ids at a time (one system call instead of one per id). */
const randomPool = Buffer.alloc(10 * 4096);
let randomOffset = randomPool.length;

const CHUNK_BYTES = 64 * 1024;

/** Encodes rows as they are appended, into chunks of about 64 kB. */
class CopyRowEncoder {
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private offset = 0;
  private rows = 0;

  /** Appends one row; returns the chunk it filled up, if this row did not fit in it any more. */
  append(e: AuditEntry): Buffer | undefined {
    const { action, resource_type: resourceType, resource_id: resourceId, method, path, ip, user_agent: userAgent, request_id: requestId } = e;
    const metadata = JSON.stringify(e.metadata);
    // A UTF-16 code unit never takes more than 3 bytes in UTF-8, so this bounds the row's size.
    const chars = action.length + (resourceType?.length ?? 0) + (resourceId?.length ?? 0) + method.length + path.length +
      (ip?.length ?? 0) + (userAgent?.length ?? 0) + (requestId?.length ?? 0) + metadata.length;
    const bound = FIXED_ROW_BYTES + 3 * chars;
    let full: Buffer | undefined;
    if (this.offset + bound > this.chunk.length) {
      full = this.seal();
      this.chunk = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, bound));
    }
    this.int16(COPY_COLUMNS.length);
    this.uuidv7(e.created_at.getTime());
    this.timestamp(e.created_at);
    this.uuid(e.user_id);
    this.text(action);
    this.text(resourceType);
    this.text(resourceId);
    this.int32(2);
    this.int16(e.status_code);
    this.text(method);
    this.text(path);
    this.text(ip);
    this.text(userAgent);
    this.text(requestId);
    if (e.duration_ms === null) this.null();
    else {
      this.int32(4);
      this.int32(e.duration_ms);
    }
    this.jsonb(metadata);
    this.rows++;
    return full;
  }

  /** Takes the rows encoded so far out of the chunk being filled (undefined when there are none). */
  seal(): Buffer | undefined {
    if (this.rows === 0) return undefined;
    const sealed = this.chunk.subarray(0, this.offset);
    this.chunk = this.chunk.subarray(this.offset);
    this.offset = 0;
    this.rows = 0;
    return sealed;
  }

  private int16(value: number): void {
    this.offset = this.chunk.writeInt16BE(value, this.offset);
  }

  private int32(value: number): void {
    this.offset = this.chunk.writeInt32BE(value, this.offset);
  }

  private null(): void {
    this.int32(-1);
  }

  /** A uuidv7 (RFC 9562) for `ms`: 48 bits of time, version 7, variant 10, random bits; ids grow with time, as the B-tree prefers. */
  private uuidv7(ms: number): void {
    if (randomOffset + 10 > randomPool.length) {
      randomFillSync(randomPool);
      randomOffset = 0;
    }
    const b = this.chunk;
    this.int32(16);
    const at = this.offset;
    b.writeUIntBE(ms, at, 6);
    for (let i = 0; i < 10; i++) b[at + 6 + i] = randomPool[randomOffset + i];
    randomOffset += 10;
    b[at + 6] = 0x70 | (b[at + 6] & 0x0f);
    b[at + 8] = 0x80 | (b[at + 8] & 0x3f);
    this.offset = at + 16;
  }

  /** A canonical uuid string; NULL when it is null or not a uuid. */
  private uuid(value: string | null): void {
    if (value === null || value.length !== 36 || value[8] !== '-' || value[13] !== '-' || value[18] !== '-' || value[23] !== '-') return this.null();
    const at = this.offset + 4;
    for (let i = 0; i < 16; i++) {
      const p = UUID_PAIRS[i];
      const high = HEX[value.charCodeAt(p)];
      const low = HEX[value.charCodeAt(p + 1)];
      if (high < 0 || low < 0) return this.null();
      this.chunk[at + i] = (high << 4) | low;
    }
    this.int32(16);
    this.offset = at + 16;
  }

  /** timestamptz: microseconds since 2000-01-01 UTC as a 64-bit integer. */
  private timestamp(date: Date): void {
    const micros = (date.getTime() - PG_EPOCH_MS) * 1000;
    this.int32(8);
    this.int32(Math.floor(micros / TWO_POW_32));
    this.offset = this.chunk.writeUInt32BE(micros >>> 0, this.offset);
  }

  private text(value: string | null): void {
    if (value === null) return this.null();
    const length = this.chunk.write(value, this.offset + 4, 'utf8');
    this.int32(length);
    this.offset += length;
  }

  private jsonb(json: string): void {
    const length = this.chunk.write(json, this.offset + 5, 'utf8');
    this.int32(length + 1);
    this.chunk[this.offset++] = 1; // jsonb format version
    this.offset += length;
  }
}

/**
 * A whole COPY stream of `entries`: header, rows, trailer. Rows are encoded as
 * the stream asks for them, a 64 kB chunk at a time (~250 rows), so a batch of
 * thousands never blocks the event loop for long.
 */
export function* copyStream(entries: Iterable<AuditEntry>): Generator<Buffer> {
  yield COPY_HEADER;
  const encoder = new CopyRowEncoder();
  for (const entry of entries) {
    const full = encoder.append(entry);
    if (full) yield full;
  }
  const last = encoder.seal();
  if (last) yield last;
  yield COPY_TRAILER;
}
