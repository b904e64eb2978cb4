import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildAsyncApiDocument, renderAsyncApi } from '../../scripts/generate-asyncapi';
import { CLIENT_MESSAGES, CLOSE_CODES, CONVENIENCE_PATHS, PROTOCOL_ERRORS, SERVER_MESSAGES, WS_PATH } from '../../src/modules/realtime/protocol';

/**
 * asyncapi.json (no app, no database): the committed file is what
 * scripts/generate-asyncapi.ts writes, every $ref resolves, operations name
 * only their own channel's messages, and every message has an example that
 * its payload schema accepts.
 */

type Json = any;

/** The value a local `$ref` (`#/a/b~1c`) points at, or undefined. */
function resolve(document: Json, ref: string): Json {
  if (!ref.startsWith('#/')) return undefined;
  let node: Json = document;
  for (const token of ref.slice(2).split('/').map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))) {
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, token)) return undefined;
    node = node[token];
  }
  return node;
}

/** Every `$ref` in the document, with where it is. */
function refsOf(node: Json, at = '#'): Array<{ at: string; ref: string }> {
  if (node === null || typeof node !== 'object') return [];
  const own = typeof node.$ref === 'string' ? [{ at, ref: node.$ref as string }] : [];
  return [...own, ...Object.entries(node).flatMap(([key, value]) => refsOf(value, `${at}/${key}`))];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KNOWN_KEYWORDS = new Set(['type', 'const', 'enum', 'properties', 'required', 'additionalProperties', 'maxLength', 'format', 'description', 'examples']);

/**
 * The problems of `value` against the JSON Schema subset protocol.ts uses; a
 * keyword outside it is a problem too, so a new one cannot pass unchecked.
 */
function problems(schema: Json, value: unknown, at = '$'): string[] {
  const found = Object.keys(schema).filter((keyword) => !KNOWN_KEYWORDS.has(keyword)).map((keyword) => `${at}: unchecked keyword ${keyword}`);
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
  if (schema.type !== undefined) {
    const types: string[] = Array.isArray(schema.type) ? schema.type : [schema.type];
    const actual = typeOf(value);
    if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) found.push(`${at}: ${actual}, not ${types.join('|')}`);
  }
  if ('const' in schema && JSON.stringify(schema.const) !== JSON.stringify(value)) found.push(`${at}: not ${JSON.stringify(schema.const)}`);
  if (schema.enum && !schema.enum.some((option: unknown) => JSON.stringify(option) === JSON.stringify(value))) found.push(`${at}: not one of ${schema.enum.join(', ')}`);
  if (typeof value === 'string') {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) found.push(`${at}: longer than ${schema.maxLength}`);
    if (schema.format === 'uuid' && !UUID.test(value)) found.push(`${at}: not a uuid`);
  }
  if (typeOf(value) === 'object') {
    const object = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in object)) found.push(`${at}: ${name} missing`);
    for (const [name, item] of Object.entries(object)) {
      const property = schema.properties?.[name];
      if (property) found.push(...problems(property, item, `${at}.${name}`));
      else if (schema.additionalProperties === false) found.push(`${at}: ${name} not allowed`);
    }
  }
  return found;
}

describe('asyncapi.json', () => {
  const file = join(__dirname, '..', '..', 'asyncapi.json');
  const committed = readFileSync(file, 'utf8');
  const document = JSON.parse(committed);

  it('is what scripts/generate-asyncapi.ts writes (run `npm run asyncapi`)', () => {
    expect(committed).toBe(renderAsyncApi());
    // Generating twice gives the same bytes.
    expect(JSON.stringify(buildAsyncApiDocument())).toBe(JSON.stringify(buildAsyncApiDocument()));
  });

  it('is an AsyncAPI 3.0 document: channels with addresses and messages, operations that send or receive', () => {
    expect(document.asyncapi).toBe('3.0.0');
    expect(document.info).toMatchObject({ title: expect.any(String), version: 'v1' });
    expect(Object.keys(document.servers).length).toBeGreaterThan(0);
    for (const [id, channel] of Object.entries<Json>(document.channels)) {
      expect([id, typeof channel.address]).toEqual([id, 'string']);
      // Every {parameter} of an address is declared, and nothing else.
      const inAddress = [...(channel.address as string).matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      expect([id, Object.keys(channel.parameters ?? {}).sort()]).toEqual([id, inAddress]);
    }
    for (const operation of Object.values<Json>(document.operations)) expect(['send', 'receive']).toContain(operation.action);
  });

  it('has a channel for the WebSocket path and for every convenience path', () => {
    const addresses = Object.values<Json>(document.channels).map((channel) => channel.address);
    expect(addresses.sort()).toEqual([WS_PATH, ...CONVENIENCE_PATHS.map((path) => path.template)].sort());
  });

  it('resolves every $ref inside the document', () => {
    const refs = refsOf(document);
    expect(refs.length).toBeGreaterThan(0);
    const broken = refs.filter(({ ref }) => resolve(document, ref) === undefined);
    expect(broken).toEqual([]);
  });

  it('lets an operation name only messages of its own channel (and its reply\'s), clients send client messages and receive server ones', () => {
    const clientTypes = Object.keys(CLIENT_MESSAGES);
    const serverTypes = Object.keys(SERVER_MESSAGES);
    for (const [id, operation] of Object.entries<Json>(document.operations)) {
      const own = `${operation.channel.$ref}/messages/`;
      expect(operation.messages.length).toBeGreaterThan(0);
      for (const { $ref } of operation.messages) {
        expect([id, $ref.startsWith(own)]).toEqual([id, true]);
        const type = $ref.slice(own.length);
        expect([id, type, (operation.action === 'send' ? clientTypes : serverTypes).includes(type)]).toEqual([id, type, true]);
      }
      if (operation.reply) {
        for (const { $ref } of operation.reply.messages) {
          expect([id, $ref.startsWith(`${operation.reply.channel.$ref}/messages/`)]).toEqual([id, true]);
          expect([id, serverTypes.includes($ref.split('/').pop())]).toEqual([id, true]);
        }
      }
    }
    // Every message is something a client can send or receive on the main path.
    const main = Object.entries<Json>(document.channels).find(([, channel]) => channel.address === WS_PATH)![0];
    const onMain = Object.values<Json>(document.operations)
      .filter((operation) => operation.channel.$ref === `#/channels/${main}`)
      .flatMap((operation) => operation.messages.map((m: Json) => m.$ref.split('/').pop()));
    expect(onMain.sort()).toEqual([...clientTypes, ...serverTypes].sort());
  });

  it('documents every message of protocol.ts, each with an example its payload schema accepts', () => {
    const messages = document.components.messages as Record<string, Json>;
    expect(Object.keys(messages).sort()).toEqual([...Object.keys(CLIENT_MESSAGES), ...Object.keys(SERVER_MESSAGES)].sort());
    for (const [type, message] of Object.entries(messages)) {
      expect([type, message.payload?.type]).toEqual([type, 'object']);
      expect([type, Array.isArray(message.examples) && message.examples.length > 0]).toEqual([type, true]);
      for (const example of message.examples) {
        expect([type, example.payload?.type]).toEqual([type, type]);
        expect([type, problems(message.payload, example.payload)]).toEqual([type, []]);
      }
    }
  });

  it('the schema check itself refuses what the schemas forbid', () => {
    const subscribe = document.components.messages.subscribe.payload;
    expect(problems(subscribe, { type: 'subscribe', channel: 'notifications' })).toEqual([]);
    expect(problems(subscribe, { type: 'subscribe' })).not.toEqual([]);
    expect(problems(subscribe, { type: 'subscribe', channel: 'x'.repeat(201) })).not.toEqual([]);
    expect(problems(subscribe, { type: 'subscribe', channel: 'notifications', extra: 1 })).not.toEqual([]);
    expect(problems(document.components.messages.error.payload, { type: 'error', payload: { code: 'NOPE', message: '' } })).not.toEqual([]);
  });

  it('names every close code, error code and the token security scheme', () => {
    const description: string = document.info.description;
    for (const code of Object.values(CLOSE_CODES)) expect(description).toContain(String(code));
    for (const code of Object.keys(PROTOCOL_ERRORS)) expect(description).toContain(code);
    expect(document.components.securitySchemes.token).toMatchObject({ type: 'httpApiKey', in: 'query', name: 'token' });
  });
});
