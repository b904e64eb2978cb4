import * as fc from 'fast-check';
import type { Operation, Parameter, Schema } from './openapi';
import { asTextValue, baseObject, cut, LONE_SURROGATES, NUL_TEXT, ODD_TEXT, previewValue, textFields, validValue, wrongValuesFor } from './values';

/** One request to send, and what makes it odd (for the report). */
export interface FuzzRequest {
  /** The mutation class, e.g. "wrong-type". */
  mutation: string;
  /** What exactly was changed, readable, e.g. `email = "\ud800"`. */
  detail: string;
  /** The path, percent-encoded, without the query. */
  path: string;
  /** The query string without `?`, percent-encoded ('' for none). */
  query: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** An operation plus a valid (URL-safe) value for each of its path parameters. */
export interface Target {
  op: Operation;
  pathValues: Record<string, string>;
}

/** One sample to draw: its mutation class and the arbitrary to draw it from. */
export interface Slot {
  mutation: string;
  arbitrary: fc.Arbitrary<FuzzRequest>;
}

/** A body as a JS value (encoded as the operation expects) or as raw bytes with a content type. */
type Body = { json: unknown } | { raw: string | Uint8Array; contentType: string | null } | null;

interface Changes {
  pathValues?: Record<string, string>;
  query?: string;
  headers?: Record<string, string>;
  /** Omitted: the operation's valid base body. */
  body?: Body;
}

/**
 * The samples for one operation and caller: a fixed list of slots, so the
 * request count depends on the schema only. Where a class has more candidates
 * (fields, parameters) than slots, `rotation` chooses which: the spec derives
 * it from the seed and the caller, so callers and runs cover different ones.
 */
export function planFor(target: Target, rotation: number): Slot[] {
  const classes = [wrongTypes, nullFields, wholeBodies, deepNesting, hugeStrings, loneSurrogates, oddUnicode, extraFields, missingRequired, emptyObject, otherContentTypes, badQuery, badPath, badHeaders];
  return classes.flatMap((make) => make(target, rotation));
}

// ---------------------------------------------------------------- body classes

/** Wrong JSON types per field: validators must refuse them, not hand them to SQL or string methods. */
function wrongTypes(t: Target, rotation: number): Slot[] {
  const fields = bodyFields(t.op);
  return rotated(fields, rotation, 4).map((field) => {
    const schema = t.op.body!.schema.properties![field];
    // Random JSON too, but never of the field's own type: a valid value could start real work (a venv).
    const random = fc.jsonValue({ maxDepth: 2 }).filter((v) => jsonTypeOf(v) !== jsonTypeOf(validValue(schema)));
    const value = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...wrongValuesFor(schema)) }, { weight: 1, arbitrary: random });
    return slot('wrong-type', value.map((v) => build(t, 'wrong-type', `${field} = ${previewValue(v)}`, { body: { json: withField(t.op, field, v) } })));
  });
}

/** `null` per field: optional-field checks often skip undefined but not null. */
function nullFields(t: Target, rotation: number): Slot[] {
  return rotated(bodyFields(t.op), rotation, 4).map((field) =>
    slot('null-field', fc.constant(build(t, 'null-field', `${field} = null`, { body: { json: withField(t.op, field, null) } }))),
  );
}

/** A body that is not an object at all: handlers that destructure it must not crash. */
function wholeBodies(t: Target, rotation: number): Slot[] {
  if (t.op.method === 'GET') return [];
  const variants: [string, fc.Arbitrary<string>][] = [
    ['null', fc.constant('null')],
    ['array', fc.constantFrom('[]', '[1,2]', '[{}]', '[null]')],
    ['string', fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s))],
    ['number', fc.oneof(fc.integer().map(String), fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), fc.constant('1e999'))],
    ['boolean', fc.constantFrom('true', 'false')],
    ['empty', fc.constant('')],
  ];
  return rotated(variants, rotation, t.op.body ? 3 : 2).map(([name, text]) =>
    slot('whole-body', text.map((raw) => build(t, 'whole-body', `body (${name}) = ${raw === '' ? "''" : raw}`, { body: { raw, contentType: 'application/json' } }))),
  );
}

/** 5 000 and 20 000 levels of nesting: recursive parsers, validators or transformers overflow the stack. */
function deepNesting(t: Target, rotation: number): Slot[] {
  if (t.op.method === 'GET') return [];
  const depths = t.op.body ? [5000, 20000] : rotated([5000, 20000], rotation, 1);
  const field = bodyFields(t.op)[0] ?? 'nested';
  return depths.map((depth) =>
    slot('deep-nesting', fc.record({ shape: fc.constantFrom('array', 'object', 'mixed'), inField: fc.boolean() }).map(({ shape, inField }) => {
      const deep = deepJson(depth, shape);
      const raw = inField ? jsonWithRawField(baseOf(t.op), field, deep) : deep;
      return build(t, 'deep-nesting', `${inField ? field : 'body'} = ${shape} nested ${depth} deep`, { body: { raw, contentType: 'application/json' } });
    })),
  );
}

/** ~200 kB strings: length limits must answer 400/413, never reach a varchar column unchecked. */
function hugeStrings(t: Target, rotation: number): Slot[] {
  if (!t.op.body) return [];
  const fields = textFields(t.op.body.schema);
  const unit = fc.constantFrom('x', '😀', 'é', '\u0000', '\ud800');
  // Sized so the JSON text is about 200 kB whatever the unit's escape.
  const huge = unit.map((u) => u.repeat(Math.ceil(200_000 / (JSON.stringify(u).length - 2))));
  const field = rotated(fields, rotation, 1)[0];
  return [
    slot('huge-string', huge.map((s) => {
      const json = field ? withField(t.op, field, asTextValue(t.op.body!.schema.properties![field], s)) : s;
      return build(t, 'huge-string', `${field ?? 'body'} = ${previewValue(s, 40)}`, { body: { json } });
    })),
  ];
}

/**
 * A lone surrogate in every text field (up to 4): no UTF-8 exists for it, so
 * whatever encodes the value (pg, crypto, a validator) may throw. Always in
 * otherwise plausible text (an email, a name), at the start, middle or end.
 */
function loneSurrogates(t: Target, rotation: number): Slot[] {
  if (!t.op.body) return [];
  const text = fc.tuple(fc.constantFrom(...LONE_SURROGATES), fc.constantFrom('', 'a', 'ada@example.com', 'ada_l', '😀'), fc.nat(2)).map(([bad, carrier, at]) => {
    const cutAt = [0, Math.floor(carrier.length / 2), carrier.length][at];
    return `${carrier.slice(0, cutAt)}${bad}${carrier.slice(cutAt)}`;
  });
  return textSlots(t, rotation, 4, 'lone-surrogate', text);
}

/** NUL (PostgreSQL refuses it in text), emoji, RTL and bidi marks, and random code units in text fields. */
function oddUnicode(t: Target, rotation: number): Slot[] {
  if (!t.op.body) return [];
  const text = fc.oneof(
    fc.constantFrom(...NUL_TEXT),
    fc.array(fc.constantFrom(...ODD_TEXT), { minLength: 1, maxLength: 4 }).map((pieces) => pieces.join('')),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
  );
  return textSlots(t, rotation + 1, 2, 'odd-unicode', text);
}

function textSlots(t: Target, rotation: number, count: number, mutation: string, text: fc.Arbitrary<string>): Slot[] {
  return rotated(textFields(t.op.body!.schema), rotation, count).map((field) =>
    slot(mutation, text.map((s) => {
      const value = asTextValue(t.op.body!.schema.properties![field], s);
      return build(t, mutation, `${field} = ${previewValue(value)}`, { body: { json: withField(t.op, field, value) } });
    })),
  );
}

/** Unknown and prototype-polluting keys, and duplicated fields: whitelisting must reject, not merge them. */
function extraFields(t: Target): Slot[] {
  if (!t.op.body) return [];
  const unknown = fc.tuple(
    fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'role', 'is_admin', 'user_id', 'id', '', 'a.b', '$where'), fc.string({ maxLength: 10 })),
    fc.jsonValue({ maxDepth: 2 }),
  );
  // A known field again, with a wrong value: which of the two does the parser keep?
  const fields = bodyFields(t.op);
  const duplicate = fc.constantFrom(...(fields.length ? fields : ['x'])).chain((field) =>
    fc.tuple(fc.constant(field), fc.constantFrom(...wrongValuesFor(t.op.body?.schema.properties?.[field] ?? {}))),
  );
  const extras = fc.array(fc.oneof({ weight: 3, arbitrary: unknown }, { weight: 1, arbitrary: duplicate }), { minLength: 1, maxLength: 4 });
  return [
    slot('extra-fields', extras.map((pairs) => {
      const entries = [...Object.entries(baseOf(t.op)), ...pairs];
      const detail = `+ ${pairs.map(([k, v]) => `${JSON.stringify(k)}: ${previewValue(v, 40)}`).join(', ')}`;
      const body: Body = isForm(t.op)
        ? { raw: entries.map(([k, v]) => `${percentEncode(k)}=${percentEncode(formValue(v))}`).join('&'), contentType: t.op.body!.contentType }
        : { raw: `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}`).join(',')}}`, contentType: 'application/json' };
      return build(t, 'extra-fields', detail, { body });
    })),
  ];
}

/** Each required field left out: handlers must not assume the validator filled it in. */
function missingRequired(t: Target, rotation: number): Slot[] {
  const required = t.op.body?.schema.required ?? [];
  return rotated(required, rotation, 2).map((field) => {
    const { [field]: _dropped, ...rest } = baseOf(t.op);
    return slot('missing-required', fc.constant(build(t, 'missing-required', `without ${field}`, { body: { json: rest } })));
  });
}

/** `{}`: every field absent at once. */
function emptyObject(t: Target): Slot[] {
  if (!t.op.body) return [];
  return [slot('empty-object', fc.constant(build(t, 'empty-object', 'body = {}', { body: { json: {} } })))];
}

/**
 * The body in another encoding than the operation takes (form for JSON, JSON
 * for form, text/plain), bytes that are not UTF-8, and odd content types: the
 * parsers and the 415 path must answer in the envelope.
 */
function otherContentTypes(t: Target, rotation: number): Slot[] {
  if (t.op.method === 'GET') return [];
  const base = baseOf(t.op);
  const formText = fc.array(fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })), { maxLength: 3 }).map((junk) =>
    [...Object.entries(base), ...junk].map(([k, v]) => `${percentEncode(k)}=${percentEncode(formValue(v))}`).join('&'),
  );
  const variants: Slot[] = [
    slot('content-type', isForm(t.op)
      ? fc.constant(build(t, 'content-type', 'JSON body on a form operation', { body: { raw: JSON.stringify(base), contentType: 'application/json' } }))
      : formText.map((raw) => build(t, 'content-type', `form body ${raw}`, { body: { raw, contentType: 'application/x-www-form-urlencoded' } }))),
    slot('content-type', fc.constant(build(t, 'content-type', 'text/plain body', { body: { raw: JSON.stringify(base), contentType: 'text/plain; charset=utf-8' } }))),
  ];
  const others: Slot[] = [
    slot('content-type', fc.constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]).map((bytes) => {
      const raw = Buffer.concat([Buffer.from('{"x":"'), Buffer.from(bytes), Buffer.from('"}')]);
      return build(t, 'content-type', `bytes that are not UTF-8: ${Buffer.from(bytes).toString('hex')}`, { body: { raw: new Uint8Array(raw), contentType: t.op.body?.contentType ?? 'application/json' } });
    })),
    slot('content-type', fc.constantFrom('application/json; charset=utf-16', 'application/x-www-form-urlencoded; charset=latin1', 'multipart/form-data; boundary=----x', 'application/xml', '*/*', 'APPLICATION/JSON', 'application/json, text/plain').map((contentType) =>
      build(t, 'content-type', `content-type: ${contentType}`, { body: { raw: JSON.stringify(base), contentType } }))),
  ];
  return t.op.body ? [...variants, ...rotated(others, rotation, 1)] : rotated([...variants, ...others], rotation, 1);
}

// ---------------------------------------------------------------- query, path and header classes

const QUERY_VALUES = {
  // Integers past int8 (and past exact doubles): a page becomes an OFFSET PostgreSQL cannot hold.
  'huge-number': ['99999999999999999999', '9223372036854775808', '1e20', '18446744073709551616', '2147483648', '4294967296'],
  negative: ['-1', '0', '-0', '-2147483649', '-99999999999999999999'],
  // Not integers, or not finite once parsed.
  fractional: ['1.5', '1e2', '1e-7', '.5', '1,5', '1e309', `1${'0'.repeat(400)}`],
  // Invalid UTF-8 after percent-decoding, NUL, a bidi override, broken escapes.
  'invalid-unicode': ['%ed%a0%80', '%ed%b0%80', '%ff%fe', '%c0%af', '%00', 'a%00b', '%e2%80%ae', '%F0%9F%98%80', '%', '%zz', '%u0041'],
};

/** Wrong values per declared query parameter type (dates past JS's range, non-uuids, non-numbers). */
function wrongQueryValues(schema: Schema): string[] {
  const common = ['', '%20', 'null', '%5B%5D', '%7B%7D'];
  if (isNumeric(schema)) return [...common, 'abc', 'true', 'NaN', 'Infinity', '0x10', '%201'];
  if (schema.format === 'date-time') return [...common, 'not-a-date', '2030-13-45T99:99:99Z', '275760-09-13T00:00:00.001Z', '-271821-04-19T00:00:00Z', '0000-00-00', '99999999999999999999'];
  if (schema.format === 'uuid') return [...common, 'not-a-uuid', '00000000-0000-0000-0000-00000000000g', '%00'];
  return [...common, 'NOT-IN-ENUM', 'TRUE', '1', encodeURIComponent('😀')];
}

/**
 * Query parameters with wrong types, overflowing, negative and non-integer
 * numbers (one slot each per numeric parameter: page and limit fail
 * differently), repeated (arrays) or bracketed (objects), invalid
 * percent-encodings and a length past Node's header limit (431 must still
 * come in the envelope). Operations without query parameters get unknown ones.
 */
function badQuery(t: Target, rotation: number): Slot[] {
  const declared = t.op.parameters.filter((p) => p.in === 'query');
  const params: Parameter[] = declared.length ? declared : ['page', 'x'].map((name) => ({ name, in: 'query' as const, required: false, schema: { type: 'string' } }));
  const numeric = declared.filter((p) => isNumeric(p.schema));
  const name = fc.constantFrom(...params.map((p) => encodeURIComponent(p.name)));
  const grapheme = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }).map(percentEncode);
  const numberSlots = (['huge-number', 'negative', 'fractional'] as const).flatMap((kind) =>
    numeric.map((p): [string, fc.Arbitrary<string>] => [kind, fc.constantFrom(...QUERY_VALUES[kind]).map((v) => `${encodeURIComponent(p.name)}=${v}`)]),
  );
  const kinds: [string, fc.Arbitrary<string>][] = [
    ['wrong-type', fc.constantFrom(...params).chain((p) => fc.constantFrom(...wrongQueryValues(p.schema)).map((v) => `${encodeURIComponent(p.name)}=${v}`))],
    ['repeated', name.chain((n) => fc.constantFrom(`${n}=1&${n}=2`, `${n}[]=1&${n}[]=2`, `${n}[a]=1`, `${n}[__proto__][x]=1`, `${n}=1&${n}=abc`))],
    ['invalid-unicode', fc.tuple(name, fc.constantFrom(...QUERY_VALUES['invalid-unicode']), fc.boolean()).map(([n, v, inName]) => (inName ? `${v}=1` : `${n}=${v}`))],
    ['huge-length', fc.tuple(name, fc.constantFrom(4000, 20000)).map(([n, length]) => `${n}=${'x'.repeat(length)}`)],
    ['unknown-param', fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor[prototype][x]', 'role', 'user_id', 'page%00'), grapheme), grapheme).map(([k, v]) => `${k}=${v}`)],
  ];
  const chosen = declared.length ? [...numberSlots, ...kinds] : rotated(kinds, rotation, 3);
  return chosen.map(([kind, query]) => slot('bad-query', query.map((q) => build(t, 'bad-query', `${kind}: ?${cut(q, 80)}`, { query: q }))));
}

const PATH_VALUES = {
  'not-uuid': ['not-a-uuid', '123', '00000000-0000-0000-0000-00000000000g', '%7Bid%7D', 'null', 'undefined', 'true', '-1', '1.5', 'admin', 'me'],
  'percent-garbage': ['%ff%fe', '%ed%a0%80', '%c0%ae%c0%ae', '%', '%zz', '%25ff', '%u0041', '%e2%80%ae'],
  traversal: ['..%2f..', '..%2f..%2f..%2fetc%2fpasswd', '..%5c..', '%2e%2e%2f', 'a%2fb', '.%2e'],
  nul: ['%00', 'a%00b', '%00%00%00%00', 'x%00.json'],
  numeric: ['0', '99999999999999999999', '-2147483649', '1e309'],
};

/**
 * Bad path parameters: non-uuids, uuids that exist nowhere, 5 000 characters,
 * percent-encoded garbage, traversal, NUL and non-ASCII text; one parameter at
 * a time, the others keep valid values.
 */
function badPath(t: Target): Slot[] {
  const names = t.op.parameters.filter((p) => p.in === 'path').map((p) => p.name);
  if (!names.length) return [];
  const kinds: [string, fc.Arbitrary<string>][] = [
    ['not-uuid', fc.constantFrom(...PATH_VALUES['not-uuid'])],
    ['unknown-uuid', fc.oneof(fc.uuid(), fc.constantFrom('00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'))],
    ['long', fc.constantFrom('a', '9', '%C3%A9').map((unit) => unit.repeat(5000))],
    ['percent-garbage', fc.constantFrom(...PATH_VALUES['percent-garbage'])],
    ['traversal', fc.constantFrom(...PATH_VALUES.traversal)],
    ['nul', fc.constantFrom(...PATH_VALUES.nul)],
    ['unicode', fc.oneof(fc.constantFrom(...ODD_TEXT), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 })).map(percentEncode)],
    ['numeric', fc.constantFrom(...PATH_VALUES.numeric)],
  ];
  return kinds.map(([kind, value]) =>
    slot('bad-path', fc.tuple(fc.constantFrom(...names), value).map(([name, v]) => build(t, 'bad-path', `${kind}: ${name} = ${previewValue(v, 80)}`, { pathValues: { [name]: v } }))),
  );
}

/** Declared header parameters (Idempotency-Key) that are empty, long or odd Latin-1. */
function badHeaders(t: Target): Slot[] {
  return t.op.parameters.filter((p) => p.in === 'header').map((p) =>
    slot('bad-header', fc.constantFrom('', ' ', 'x'.repeat(8000), 'k'.repeat(129), 'a b c', '\u00ff\u00fe', '../../etc/passwd', '%00').map((v) =>
      build(t, 'bad-header', `${p.name}: ${previewValue(v, 60)}`, { headers: { [p.name]: v } }))),
  );
}

// ---------------------------------------------------------------- helpers

/** Text of `depth` nested arrays, objects, or both alternating, built as text (no recursion anywhere). */
export function deepJson(depth: number, shape: string): string {
  if (shape === 'array') return `${'['.repeat(depth)}${']'.repeat(depth)}`;
  if (shape === 'object') return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
  const pairs = Math.ceil(depth / 2);
  return `${'[{"a":'.repeat(pairs)}1${'}]'.repeat(pairs)}`;
}

/** JSON text of `object` with `field` set to the raw JSON text `rawValue`. */
function jsonWithRawField(object: Record<string, unknown>, field: string, rawValue: string): string {
  const entries = Object.entries(object).filter(([k]) => k !== field).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `{${[...entries, `${JSON.stringify(field)}:${rawValue}`].join(',')}}`;
}

function slot(mutation: string, arbitrary: fc.Arbitrary<FuzzRequest>): Slot {
  return { mutation, arbitrary };
}

/** `count` items of `list` starting at `rotation` (all of them when the list is that short). */
function rotated<T>(list: T[], rotation: number, count: number): T[] {
  if (list.length <= count) return list;
  return Array.from({ length: count }, (_, i) => list[(rotation + i) % list.length]);
}

function bodyFields(op: Operation): string[] {
  return Object.keys(op.body?.schema.properties ?? {});
}

function baseOf(op: Operation): Record<string, unknown> {
  return op.body ? baseObject(op.body.schema) : {};
}

function withField(op: Operation, field: string, value: unknown): Record<string, unknown> {
  return { ...baseOf(op), [field]: value };
}

/** null, array, object, string, number or boolean (integers are numbers). */
function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}

function isNumeric(schema: Schema): boolean {
  return schema.type === 'number' || schema.type === 'integer';
}

function isForm(op: Operation): boolean {
  return op.body?.contentType === 'application/x-www-form-urlencoded';
}

/**
 * encodeURIComponent that does not throw on lone surrogates: it writes their
 * three bytes (WTF-8), which is exactly the invalid UTF-8 a server must refuse.
 */
export function percentEncode(text: string): string {
  let out = '';
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code >= 0xd800 && code <= 0xdfff) {
      out += [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    } else {
      out += encodeURIComponent(char);
    }
  }
  return out;
}

function formValue(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

/** The request for `t` with `changes` applied to its valid parts. */
function build(t: Target, mutation: string, detail: string, changes: Changes): FuzzRequest {
  const pathValues = { ...t.pathValues, ...changes.pathValues };
  const path = t.op.path.replace(/\{([^}]+)\}/g, (_, name: string) => pathValues[name] ?? 'missing');
  const headers: Record<string, string> = { ...changes.headers };
  const body = changes.body === undefined ? (t.op.body ? { json: baseOf(t.op) } : null) : changes.body;
  let encoded: string | Uint8Array | undefined;
  if (body && 'json' in body) {
    if (isForm(t.op) && body.json !== null && typeof body.json === 'object' && !Array.isArray(body.json)) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      encoded = Object.entries(body.json).map(([k, v]) => `${percentEncode(k)}=${percentEncode(formValue(v))}`).join('&');
    } else {
      headers['content-type'] = 'application/json';
      encoded = JSON.stringify(body.json);
    }
  } else if (body) {
    if (body.contentType) headers['content-type'] = body.contentType;
    encoded = body.raw;
  }
  return { mutation, detail, path, query: changes.query ?? '', headers, body: encoded };
}
