import { decodeCopyStream } from '../../../test/support/copy-stream';
import { AuditEntry } from './audit-entry';
import { COPY_COLUMNS, copyStream } from './audit-copy';

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    created_at: new Date('2026-01-02T03:04:05.678Z'), user_id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', action: 'user.login', resource_type: 'user',
    resource_id: 'r1', status_code: 201, method: 'POST', path: '/api/v1/auth/login', ip: '127.0.0.1', user_agent: 'jest', request_id: 'req-1',
    duration_ms: 3, metadata: { username: 'ada' }, ...overrides,
  };
}


const column = (name: (typeof COPY_COLUMNS)[number]) => COPY_COLUMNS.indexOf(name);
const text = (value: Buffer | null) => value?.toString('utf8') ?? null;
const hex = (value: Buffer | null) => value?.toString('hex') ?? null;

describe('copyStream (binary COPY)', () => {
  it('writes each column in PostgreSQL binary form', () => {
    const [row] = decodeCopyStream(Buffer.concat([...copyStream([entry()])]));
    expect(row).toHaveLength(COPY_COLUMNS.length);
    const id = hex(row[column('id')])!;
    // uuidv7: 48 bits of the entry's milliseconds, version 7, variant 10.
    expect(id.slice(0, 12)).toBe(new Date('2026-01-02T03:04:05.678Z').getTime().toString(16).padStart(12, '0'));
    expect(id[12]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[16]);
    // timestamptz: microseconds since 2000-01-01 UTC.
    expect(row[column('created_at')]!.readBigInt64BE()).toBe(BigInt(Date.parse('2026-01-02T03:04:05.678Z') - Date.UTC(2000, 0, 1)) * 1000n);
    expect(hex(row[column('user_id')])).toBe('0190a1b2c3d47e5f8a9b0c1d2e3f4a5b');
    expect(text(row[column('action')])).toBe('user.login');
    expect(row[column('status_code')]!.readInt16BE()).toBe(201);
    expect(row[column('duration_ms')]!.readInt32BE()).toBe(3);
    const metadata = row[column('metadata')]!;
    expect(metadata[0]).toBe(1); // jsonb version
    expect(JSON.parse(text(metadata.subarray(1))!)).toEqual({ username: 'ada' });
  });

  it('writes NULL for null values and for a user id that is not a uuid', () => {
    const [row] = decodeCopyStream(Buffer.concat([...copyStream([entry({ user_id: 'not-a-uuid', resource_id: null, duration_ms: null, user_agent: null })])]));
    expect(row[column('user_id')]).toBeNull();
    expect(row[column('resource_id')]).toBeNull();
    expect(row[column('duration_ms')]).toBeNull();
    expect(row[column('user_agent')]).toBeNull();
  });

  it('encodes many rows in several chunks, in order', () => {
    const entries = Array.from({ length: 1000 }, (_, i) => entry({ request_id: `req-${i}`, user_agent: 'é'.repeat(i % 200) }));
    const chunks = [...copyStream(entries)];
    expect(chunks.length).toBeGreaterThan(3);
    const rows = decodeCopyStream(Buffer.concat(chunks));
    expect(rows.map((r) => text(r[column('request_id')]))).toEqual(entries.map((e) => e.request_id));
    expect(rows.map((r) => text(r[column('user_agent')]))).toEqual(entries.map((e) => e.user_agent));
  });
});
