import type { Schema } from './openapi';

/**
 * A value the schema accepts. Mutations start from a valid body and change one
 * thing, so each request probes one way of being wrong rather than failing
 * early on an unrelated field.
 */
export function validValue(schema: Schema): unknown {
  if (schema.example !== undefined) return schema.example;
  if (schema.default !== undefined) return schema.default;
  if (schema.enum?.length) return schema.enum[0];
  switch (schema.type) {
    case 'string':
      // Well-formed, and no row has it (ids here are v7 or gen_random_uuid v4 with random bits).
      if (schema.format === 'uuid') return 'f0220000-0000-4000-8000-000000000000';
      if (schema.format === 'date-time') return '2030-01-01T00:00:00.000Z';
      return schema.pattern ? 'fuzz_value' : 'fuzz value';
    case 'number':
    case 'integer':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array':
      return schema.items ? [validValue(schema.items)] : [];
    case 'object':
      return baseObject(schema);
    default:
      return 'fuzz';
  }
}

/** The required properties with valid values (optional ones appear only mutated). */
export function baseObject(schema: Schema): Record<string, unknown> {
  const properties = schema.properties ?? {};
  return Object.fromEntries((schema.required ?? []).filter((name) => properties[name]).map((name) => [name, validValue(properties[name])]));
}

/** Fields whose value is text (or a list of text), where string mutations apply. */
export function textFields(schema: Schema): string[] {
  return Object.entries(schema.properties ?? {})
    .filter(([, s]) => s.type === 'string' || (s.type === 'array' && s.items?.type === 'string'))
    .map(([name]) => name);
}

/** Puts `text` where a field of this schema takes text: itself, or as the one item of a list. */
export function asTextValue(schema: Schema | undefined, text: string): unknown {
  return schema?.type === 'array' ? [text] : text;
}

/**
 * Values of the wrong JSON type for a field, plus numbers at the edges of what
 * a column or a JS number can hold (int overflow and 1e308 reach SQL as errors
 * when nothing checks them).
 */
export function wrongValuesFor(schema: Schema): unknown[] {
  const containers = [{}, [], { nested: { deeper: 'x' } }, ['a', 1, null]];
  switch (schema.type) {
    case 'string':
      return [42, -1, 1.5, true, false, ...containers, schema.enum ? 'NOT-IN-ENUM' : 0];
    case 'number':
    case 'integer':
      return ['1', 'abc', '', true, ...containers, -1, 0, 1.5, 1e308, -1e308, 2 ** 53 + 2, 2 ** 31, -(2 ** 31) - 1, 1e20];
    case 'boolean':
      return ['true', 'false', 1, 0, 'yes', ...containers];
    case 'array':
      return ['a', 1, true, {}, [null], [1, 2], [{}], [[]], [{ path: 1 }], Array.from({ length: 1000 }, (_, i) => `item${i}`)];
    case 'object':
      return ['a', 1, true, [], [{}]];
    default:
      return [42, 'a', true, {}, []];
  }
}

/** Lone surrogates: valid in a JS string and as a JSON escape, but not Unicode (no UTF-8 for them). */
export const LONE_SURROGATES = ['\ud800', '\udfff', '\udbff', '\udc00\ud800'];
/** NUL: valid JSON (\u0000), refused by PostgreSQL in text. */
export const NUL_TEXT = ['\u0000', 'nul\u0000inside', 'a\u0000@example.com'];
/** Valid but awkward text: emoji (pairs, ZWJ sequences, flags), RTL and bidi overrides, invisible and combining marks. */
export const ODD_TEXT = ['😀', '👩‍👩‍👧‍👦', '🇺🇦', 'مرحبا بالعالم', 'עברית', '\u202eevil\u202c', '\u200b', '\ufeff', '\uffff', 'e\u0301', 'ǅ', ' '];

/** A value as JSON, cut for reports (a 200 kB string shows its start and length). */
export function previewValue(value: unknown, max = 160): string {
  return cut(JSON.stringify(value) ?? String(value), max);
}

/** A raw request body for reports: its text (the JSON we send escapes odd characters) or bytes in hex. */
export function previewBody(body: string | Uint8Array | undefined, max = 300): string {
  if (body === undefined) return '(none)';
  if (typeof body === 'string') return cut(body, max);
  return `<${body.length} bytes> ${cut(Buffer.from(body).toString('hex'), max)}`;
}

export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}
