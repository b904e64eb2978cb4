import { REALTIME_MESSAGE_TYPES } from '../../common/events/realtime-event';

/**
 * The WebSocket protocol of /api/v1/ws, written down once: the gateway reads
 * client messages and writes server messages by these definitions, and
 * scripts/generate-asyncapi.ts turns them into asyncapi.json. Every message is
 * a JSON object with a `type`.
 */

/** Where sockets connect; the convenience paths subscribe to their channel on connecting. */
export const WS_PATH = '/api/v1/ws';
export const CONVENIENCE_PATHS = [
  { pattern: /^\/api\/v1\/ws\/notifications$/, template: '/api/v1/ws/notifications', channel: () => 'notifications' },
  { pattern: /^\/api\/v1\/ws\/chat\/([^/]+)$/, template: '/api/v1/ws/chat/{chat_id}', channel: (id: string) => `chat:${id}` },
  { pattern: /^\/api\/v1\/deployments\/([^/]+)\/logs\/stream$/, template: '/api/v1/deployments/{id}/logs/stream', channel: (id: string) => `deployment:${id}` },
] as const;

/** Close codes a client should tell apart. */
export const CLOSE_CODES = {
  /** Missing, bad, expired or revoked credentials, or no auth message within the time allowed. */
  UNAUTHORIZED: 4401,
  /** The client read too slowly: its unsent data passed the limit. */
  SLOW_CONSUMER: 4008,
  /** The user has the most sockets open that the server allows. */
  TOO_MANY_CONNECTIONS: 4429,
  /** A message over the size limit (the ws library's own code). */
  MESSAGE_TOO_LARGE: 1009,
  /** A convenience path's channel may not be read by this user. */
  POLICY_VIOLATION: 1008,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
} as const;

/** Channel names: a kind, and for all but `notifications` the id of the thing watched. */
export const CHANNEL_KINDS = ['notifications', 'execution', 'deployment', 'chat', 'server'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];
export const MAX_CHANNEL_LENGTH = 200;

/** Error codes of `error` messages. */
export const PROTOCOL_ERRORS = {
  BAD_MESSAGE: 'the message is not JSON, or not an object with a known type and the fields it needs',
  UNKNOWN_CHANNEL: 'no channel of that name exists',
  FORBIDDEN: 'the channel exists but this user or key may not read it (or it is not there to read)',
  TOO_MANY_SUBSCRIPTIONS: 'the socket has subscribed to as many channels as allowed',
  ALREADY_AUTHENTICATED: 'an auth message for another user on an authenticated socket',
} as const;
export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;

/** A JSON Schema and an example, per message: what the AsyncAPI document shows. */
export interface MessageDefinition {
  summary: string;
  schema: Record<string, unknown>;
  example: Record<string, unknown>;
}

const channelField = { type: 'string', maxLength: MAX_CHANNEL_LENGTH, examples: ['notifications', 'execution:0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b'] };
const object = (properties: Record<string, unknown>, required: string[]) => ({ type: 'object', properties, required, additionalProperties: false });

export const CLIENT_MESSAGES: Record<string, MessageDefinition> = {
  auth: {
    summary: 'Authenticate (without ?token=): the first message, within the auth timeout; again later to present a refreshed token of the same user',
    schema: object({ type: { const: 'auth' }, token: { type: 'string', description: 'An access token (JWT) or an API key (sk-…)' } }, ['type', 'token']),
    example: { type: 'auth', token: 'eyJhbGciOiJIUzI1NiIs…' },
  },
  subscribe: {
    summary: 'Receive a channel\'s messages; answered `subscribed` or `error`',
    schema: object({ type: { const: 'subscribe' }, channel: channelField }, ['type', 'channel']),
    example: { type: 'subscribe', channel: 'notifications' },
  },
  unsubscribe: {
    summary: 'Stop receiving a channel; answered `unsubscribed`',
    schema: object({ type: { const: 'unsubscribe' }, channel: channelField }, ['type', 'channel']),
    example: { type: 'unsubscribe', channel: 'notifications' },
  },
  ping: {
    summary: 'An application-level ping (browsers cannot send WebSocket pings); answered `pong`',
    schema: object({ type: { const: 'ping' } }, ['type']),
    example: { type: 'ping' },
  },
};

const PAYLOAD_EXAMPLES: Record<(typeof REALTIME_MESSAGE_TYPES)[number], { channel: string; payload: Record<string, unknown> }> = {
  update: {
    channel: 'execution:0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b',
    payload: {
      id: '0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b', status: 'success', exit_code: 0, execution_time_ms: 41, cpu_time_ms: 30, memory_used_kb: 9120,
      finished_at: '2026-12-02T10:00:00.041Z',
    },
  },
  log: { channel: 'execution:0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b', payload: { stream: 'stdout', data: 'hello\n' } },
  metric: { channel: 'server:0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b', payload: { cpu_percent: 12.5, memory_percent: 40.1 } },
  message: { channel: 'chat:0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b', payload: { id: '…', user_id: '…', content: 'hi' } },
  notification: {
    channel: 'notifications',
    payload: { id: '0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b', type: 'follow', title: 'alice followed you', body: '', data: {}, read_at: null, created_at: '2026-12-02T10:00:00.000Z' },
  },
};

export const SERVER_MESSAGES: Record<string, MessageDefinition> = {
  authenticated: {
    summary: 'The credentials were accepted (after ?token= or an auth message)',
    schema: object({ type: { const: 'authenticated' }, payload: object({ user_id: { type: 'string', format: 'uuid' }, username: { type: 'string' } }, ['user_id', 'username']) }, ['type', 'payload']),
    example: { type: 'authenticated', payload: { user_id: '0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b', username: 'alice' } },
  },
  subscribed: {
    summary: 'The subscription is in place: messages published from now on arrive',
    schema: object({ type: { const: 'subscribed' }, channel: channelField }, ['type', 'channel']),
    example: { type: 'subscribed', channel: 'notifications' },
  },
  unsubscribed: {
    summary: 'The subscription is gone',
    schema: object({ type: { const: 'unsubscribed' }, channel: channelField }, ['type', 'channel']),
    example: { type: 'unsubscribed', channel: 'notifications' },
  },
  pong: {
    summary: 'The answer to a ping message',
    schema: object({ type: { const: 'pong' } }, ['type']),
    example: { type: 'pong' },
  },
  error: {
    summary: 'A message was refused (the socket stays open); `channel` when it was about one',
    schema: object(
      {
        type: { const: 'error' },
        channel: channelField,
        payload: object({ code: { enum: Object.keys(PROTOCOL_ERRORS) }, message: { type: 'string' } }, ['code', 'message']),
      },
      ['type', 'payload'],
    ),
    example: { type: 'error', channel: 'execution:0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b', payload: { code: 'FORBIDDEN', message: 'You may not read this channel' } },
  },
  ...Object.fromEntries(
    REALTIME_MESSAGE_TYPES.map((type) => [
      type,
      {
        summary: `A channel's ${type} (its payload is the publishing context's; see the README)`,
        schema: object({ type: { const: type }, channel: channelField, payload: { type: 'object' } }, ['type', 'channel', 'payload']),
        example: { type, ...PAYLOAD_EXAMPLES[type] },
      },
    ]),
  ),
};
