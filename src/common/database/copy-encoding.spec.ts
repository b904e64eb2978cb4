import { decodeCopyStream } from '../../../test/support/copy-stream';
import { COPY_HEADER, COPY_TRAILER, CopyRowEncoder, copyFromStdinSql, copyStream } from './copy-encoding';

interface Row {
  id: string | null;
  at: Date;
  small: number;
  int: number | null;
  flag: boolean;
  text: string | null;
  json: unknown;
}

/** A test format: every field kind once, in this order. */
function format(row: Row, encoder: CopyRowEncoder): void {
  const json = JSON.stringify(row.json);
  encoder.startRow(8, 2 + 8 * 4 + 16 + 16 + 8 + 2 + 4 + 1 + 1 + 3 * ((row.text?.length ?? 0) + json.length));
  encoder.uuidv7(row.at.getTime());
  encoder.uuid(row.id);
  encoder.timestamptz(row.at);
  encoder.smallint(row.small);
  encoder.integer(row.int);
  encoder.boolean(row.flag);
  encoder.text(row.text);
  encoder.jsonb(json);
}

const AT = new Date('2026-01-02T03:04:05.678Z');
const row = (overrides: Partial<Row> = {}): Row => ({
  id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', at: AT, small: -2, int: 123456, flag: true, text: 'héllo', json: { a: [1, 'é'] }, ...overrides,
});
const encode = (rows: Row[]) => decodeCopyStream(Buffer.concat([...copyStream(rows, format)]));
const hex = (value: Buffer | null) => value?.toString('hex') ?? null;

describe('copyStream (binary COPY)', () => {
  it('writes each kind of field in PostgreSQL binary form', () => {
    const [[v7, id, at, small, int, flag, text, json]] = encode([row()]);
    // uuidv7: 48 bits of the milliseconds, version 7, variant 10.
    expect(hex(v7)!.slice(0, 12)).toBe(AT.getTime().toString(16).padStart(12, '0'));
    expect(hex(v7)![12]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(hex(v7)![16]);
    expect(hex(id)).toBe('0190a1b2c3d47e5f8a9b0c1d2e3f4a5b');
    // timestamptz: microseconds since 2000-01-01 UTC.
    expect(at!.readBigInt64BE()).toBe(BigInt(AT.getTime() - Date.UTC(2000, 0, 1)) * 1000n);
    expect(small!.readInt16BE()).toBe(-2);
    expect(int!.readInt32BE()).toBe(123456);
    expect([...flag!]).toEqual([1]);
    expect(text!.toString('utf8')).toBe('héllo');
    expect(json![0]).toBe(1); // jsonb version
    expect(JSON.parse(json!.subarray(1).toString('utf8'))).toEqual({ a: [1, 'é'] });
  });

  it('writes timestamps before 2000 as negative microseconds', () => {
    const [[, , at]] = encode([row({ at: new Date('1999-12-31T23:59:59.999Z') })]);
    expect(at!.readBigInt64BE()).toBe(-1000n);
  });

  it('writes NULL for null values and for a uuid that is not one', () => {
    for (const id of [null, 'not-a-uuid', '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g', '0190a1b2c3d47e5f8a9b0c1d2e3f4a5b']) {
      const [[, uuid]] = encode([row({ id })]);
      expect(uuid).toBeNull();
    }
    const [[, , , , int, , text]] = encode([row({ int: null, text: null })]);
    expect(int).toBeNull();
    expect(text).toBeNull();
    expect([...encode([row({ flag: false })])[0][5]!]).toEqual([0]);
  });

  it('writes each row its own uuid when rows repeat and alternate them (the last one is reused)', () => {
    const a = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const b = 'FFFFFFFF-0000-7000-8000-00000000000A';
    const ids = [a, a, b, b, a, null, a, 'not-a-uuid', b];
    const decoded = encode(ids.map((id) => row({ id })));
    expect(decoded.map((r) => hex(r[1]))).toEqual(ids.map((id) => (id && id.length === 36 ? id.replace(/-/g, '').toLowerCase() : null)));
  });

  it('writes a lone surrogate as U+FFFD, like Buffer.write', () => {
    const [[, , , , , , text, json]] = encode([row({ text: 'a\ud800b', json: 'x\udc00' })]);
    expect(text!.toString('utf8')).toBe('a\ufffdb');
    expect(json!.subarray(1).toString('utf8')).toBe(JSON.stringify('x\udc00'));
  });

  it('encodes many rows in several chunks, in order', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => row({ small: i, text: 'é'.repeat(i % 200) }));
    const chunks = [...copyStream(rows, format)];
    expect(chunks.length).toBeGreaterThan(3);
    const decoded = decodeCopyStream(Buffer.concat(chunks));
    expect(decoded.map((r) => r[3]!.readInt16BE())).toEqual(rows.map((r) => r.small));
    expect(decoded.map((r) => r[6]!.toString('utf8'))).toEqual(rows.map((r) => r.text));
  });

  it('gives a row larger than a chunk a chunk of its own', () => {
    const big = 'x'.repeat(200 * 1024);
    const decoded = encode([row({ text: 'a' }), row({ text: big }), row({ text: 'b' })]);
    expect(decoded.map((r) => r[6]!.toString('utf8'))).toEqual(['a', big, 'b']);
  });

  it('writes an empty stream for no rows', () => {
    expect(Buffer.concat([...copyStream([], format)])).toEqual(Buffer.concat([COPY_HEADER, COPY_TRAILER]));
  });
});

describe('copyFromStdinSql', () => {
  it('names the table and its columns, binary format', () => {
    expect(copyFromStdinSql('t', ['a', 'b'])).toBe('COPY t (a, b) FROM STDIN WITH (FORMAT binary)');
  });
});
