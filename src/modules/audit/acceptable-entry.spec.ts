import fc from 'fast-check';
import { METADATA_BYTES, METADATA_VALUE_BYTES, acceptableEntry, acceptableMetadata, acceptableText } from './acceptable-entry';
import { AuditEntry } from './audit-entry';

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    created_at: new Date(), user_id: null, action: 'user.login', resource_type: 'user', resource_id: null, status_code: 401,
    method: 'POST', path: '/api/v1/auth/login', ip: '127.0.0.1', user_agent: 'jest', request_id: 'req-1', duration_ms: 3, metadata: {}, ...overrides,
  };
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
/** Every string of a JSON value, keys included. */
function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => [key, ...stringsOf(item)]);
  return [];
}

describe('acceptableText', () => {
  it('replaces lone surrogates and NUL with U+FFFD and cuts to the column length', () => {
    expect(acceptableText('x\ud800y', 10)).toBe('x\uFFFDy');
    expect(acceptableText('\udfffz', 10)).toBe('\uFFFDz');
    expect(acceptableText('/a\0b', 10)).toBe('/a\uFFFDb');
    expect(acceptableText('x'.repeat(300), 128)).toBe('x'.repeat(128));
    // A cut through a surrogate pair leaves no half behind.
    expect(acceptableText('ab😀', 3)).toBe('ab\uFFFD');
  });
});

describe('acceptableMetadata', () => {
  it('keeps small scalars and lists of scalars, drops nested objects', () => {
    expect(acceptableMetadata({ name: 'k', n: 3, ok: true, none: null, fields: ['a', 'b'], nested: { a: 1 }, fn: () => 1, nan: NaN })).toEqual({
      name: 'k', n: 3, ok: true, none: null, fields: ['a', 'b'], nan: null,
    });
  });

  it('caps a value at 256 bytes and the whole object at 4 kB', () => {
    const metadata = acceptableMetadata({ big: 'é'.repeat(1_000_000), list: Array.from({ length: 100_000 }, (_, i) => `field_${i}`) });
    expect(bytes(metadata.big)).toBeLessThanOrEqual(METADATA_VALUE_BYTES + 2);
    expect(bytes(metadata.list)).toBeLessThanOrEqual(METADATA_VALUE_BYTES);
    const many = acceptableMetadata(Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, 'v'.repeat(200)])));
    expect(bytes(many)).toBeLessThanOrEqual(METADATA_BYTES);
    expect(many.truncated).toBe(true);
  });

  it('does not recurse into deeply nested values', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(acceptableMetadata({ deep, also: { deep } })).toEqual({ deep: [] });
  });
});

describe('acceptableEntry', () => {
  it('bounds numbers to their columns', () => {
    const made = acceptableEntry(entry({ status_code: 70_000, duration_ms: -5, created_at: new Date(NaN) }));
    expect(made.status_code).toBe(32_767);
    expect(made.duration_ms).toBe(0);
    expect(Number.isFinite(made.created_at.getTime())).toBe(true);
  });

  it('property: any strings and any metadata give well-formed, NUL-free, bounded values', () => {
    const text = fc.string({ unit: 'binary', maxLength: 2000 });
    fc.assert(
      fc.property(text, text, text, fc.option(text), fc.dictionary(text, fc.anything({ maxDepth: 4, withBigInt: true, withNullPrototype: true })), (action, path, userAgent, resourceId, metadata) => {
        const made = acceptableEntry(entry({ action, path, user_agent: userAgent, resource_id: resourceId, metadata }));
        const json = JSON.stringify(made.metadata);
        expect(Buffer.byteLength(json)).toBeLessThanOrEqual(METADATA_BYTES);
        for (const value of [made.action, made.path, made.user_agent, made.resource_id, json, ...stringsOf(made.metadata)]) {
          if (value === null) continue;
          expect(value.isWellFormed()).toBe(true);
          expect(value.includes('\0')).toBe(false);
        }
        expect(made.action.length).toBeLessThanOrEqual(64);
        expect(made.path.length).toBeLessThanOrEqual(500);
      }),
      { numRuns: 300 },
    );
  });
});
