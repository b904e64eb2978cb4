import { readAppConfig } from '../src/config/app-config';
import {
  CHANNEL_KINDS,
  ChannelKind,
  CLIENT_MESSAGES,
  CLOSE_CODES,
  CONVENIENCE_PATHS,
  MessageDefinition,
  PROTOCOL_ERRORS,
  SERVER_MESSAGES,
  WS_PATH,
} from '../src/modules/realtime/protocol';
import { writeOrCheck } from './generated-file';

/**
 * Writes asyncapi.json (AsyncAPI 3.0) at the repository root from the
 * WebSocket protocol as protocol.ts defines it: the paths, the messages with
 * their JSON Schemas and examples, the channel kinds, error and close codes.
 * The limits are the defaults of the `realtime` configuration. `--check` fails
 * when the committed file differs, so CI catches a stale one.
 *
 * Operations are written from a client's point of view (AsyncAPI 3.0: what
 * "the application" does): a client sends auth, subscribe, unsubscribe and
 * ping, and receives everything else.
 */

type Json = Record<string, unknown>;

/** What each close code means to a client (protocol.ts keeps it in comments only). */
const CLOSE_CODE_MEANINGS: Record<keyof typeof CLOSE_CODES, string> = {
  UNAUTHORIZED: 'missing, bad, expired or revoked credentials, no `auth` message within the auth timeout, or another message before it',
  SLOW_CONSUMER: 'the client read too slowly: its unsent data passed the limit',
  TOO_MANY_CONNECTIONS: 'the user already has as many sockets open on this replica as allowed',
  MESSAGE_TOO_LARGE: 'a message over the size limit',
  POLICY_VIOLATION: 'a convenience path\'s channel may not be read (an `error` message comes first)',
  GOING_AWAY: 'the server is shutting down; reconnect',
};

/** Who may read each channel kind (the gateway's ChannelAccess decides; this says it in words). */
const CHANNEL_READERS: Record<ChannelKind, string> = {
  notifications: '`notifications`: the user\'s own notifications (`notification` messages). Any session; any API key.',
  execution: '`execution:<id>`: a run started with `?wait=false` or through `/execute/stream`: a `log` per piece of output, an `update` with the outcome at its end. Its owner, or an admin; an API key needs the `execute` scope.',
  deployment: '`deployment:<id>`: a deployment\'s status (`update`) and output (`log`). Its owner or an admin; an API key needs `deployments:read`.',
  chat: '`chat:<id>`: a chat room\'s messages. Not on this server yet: `UNKNOWN_CHANNEL`.',
  server: '`server:<id>`: a server\'s status changes and alerts (`update`). Its owner or an admin (the platform\'s own server `local`: admins only).',
};

/** The server messages that answer each client message. */
const REPLIES: Record<string, string[]> = {
  auth: ['authenticated', 'error'],
  subscribe: ['subscribed', 'error'],
  unsubscribe: ['unsubscribed', 'error'],
  ping: ['pong'],
};

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** `/api/v1/ws/chat/{chat_id}` → `wsChat`: the path's fixed segments after the API prefix. */
function channelIdOf(path: string): string {
  const segments = path.replace(/^\/api\/v1\//, '').split('/').filter((segment) => segment && !segment.startsWith('{'));
  return segments.map((segment, i) => (i === 0 ? segment : capitalized(segment))).join('').replace(/[^A-Za-z0-9]/g, '');
}

function description(): string {
  const limits = readAppConfig({}).realtime;
  const lines = [
    'The WebSocket API of CodeRunner, on the HTTP API\'s port: a user\'s notifications and the progress of runs, live. '
      + 'Every message is a JSON object with a `type`, in a text frame. The operations are written from a client\'s point of view: '
      + 'a client sends `auth`, `subscribe`, `unsubscribe` and `ping`, and receives the rest.',
    '',
    '## Authentication',
    '',
    `- \`?token=\` on the URL: an access token (JWT) or an API key (\`sk-…\`); or, without it, an \`auth\` message first, within ${limits.authTimeoutMs} ms (REALTIME_AUTH_TIMEOUT_MS). Anything else first, or nothing, closes with ${CLOSE_CODES.UNAUTHORIZED}.`,
    `- Bad, expired or revoked credentials close with ${CLOSE_CODES.UNAUTHORIZED}; accepted ones are answered \`authenticated\`.`,
    `- The socket is checked again whenever the user's sessions or keys change (a logout, a deleted or disabled key) and closed with ${CLOSE_CODES.UNAUTHORIZED} once its credentials no longer hold.`,
    '- An `auth` message on an authenticated socket presents a refreshed token of the same user (answered `authenticated`); another user\'s token is answered `ALREADY_AUTHENTICATED`.',
    '',
    '## Channels',
    '',
    'A client subscribes to channels by name (`subscribe`, answered `subscribed` or `error`) and receives their messages as `{type, channel, payload}`. '
      + 'A channel that may not be read and one that does not exist answer alike (`FORBIDDEN`), so a name reveals nothing.',
    '',
    ...CHANNEL_KINDS.map((kind) => `- ${CHANNEL_READERS[kind]}`),
    '',
    '## Error codes',
    '',
    '`error` messages (`payload.code`); the socket stays open.',
    '',
    ...Object.entries(PROTOCOL_ERRORS).map(([code, meaning]) => `- \`${code}\`: ${meaning}.`),
    '',
    '## Close codes',
    '',
    ...(Object.keys(CLOSE_CODES) as Array<keyof typeof CLOSE_CODES>).map((name) => `- ${CLOSE_CODES[name]} (${name}): ${CLOSE_CODE_MEANINGS[name]}.`),
    '',
    '## Limits (defaults)',
    '',
    `- A client message: at most ${limits.maxMessageBytes} bytes (REALTIME_MAX_MESSAGE_BYTES), else close ${CLOSE_CODES.MESSAGE_TOO_LARGE}.`,
    `- Channels per socket: ${limits.maxSubscriptions} (REALTIME_MAX_SUBSCRIPTIONS), then \`TOO_MANY_SUBSCRIPTIONS\`.`,
    `- Sockets per user on one replica: ${limits.maxConnectionsPerUser} (REALTIME_MAX_CONNECTIONS_PER_USER), one more closes with ${CLOSE_CODES.TOO_MANY_CONNECTIONS}.`,
    `- Unsent data per socket: ${limits.maxBufferedBytes} bytes (REALTIME_MAX_BUFFERED_BYTES), then close ${CLOSE_CODES.SLOW_CONSUMER}.`,
    `- The server pings every ${limits.pingIntervalMs} ms (REALTIME_PING_INTERVAL_MS, WebSocket ping frames); a socket that did not answer the previous ping (nor sent anything since) is cut off. Browsers answer pings on their own; \`ping\` messages are for clients that want to check the connection themselves.`,
  ];
  return lines.join('\n');
}

function message(type: string, definition: MessageDefinition): Json {
  return {
    name: type,
    title: type,
    summary: definition.summary,
    payload: definition.schema,
    examples: [{ name: type, payload: definition.example }],
  };
}

/** The AsyncAPI 3.0 document of the WebSocket protocol, keys in a fixed order. */
export function buildAsyncApiDocument(): Json {
  const clientTypes = Object.keys(CLIENT_MESSAGES);
  const serverTypes = Object.keys(SERVER_MESSAGES);
  const clash = clientTypes.filter((type) => serverTypes.includes(type));
  if (clash.length > 0) throw new Error(`Client and server messages share the types ${clash.join(', ')}`);
  for (const [type, replies] of Object.entries(REPLIES)) {
    if (!clientTypes.includes(type)) throw new Error(`REPLIES names ${type}, which is no client message`);
    for (const reply of replies) if (!serverTypes.includes(reply)) throw new Error(`REPLIES names ${reply}, which is no server message`);
  }

  const channelMessages = Object.fromEntries([...clientTypes, ...serverTypes].map((type) => [type, { $ref: `#/components/messages/${type}` }]));
  const mainId = channelIdOf(WS_PATH);
  const channels: Record<string, Json> = {
    [mainId]: {
      address: WS_PATH,
      title: 'The WebSocket',
      description: 'Authenticate (`?token=` or an `auth` message), then subscribe to channels; their messages arrive on the same socket.',
      messages: channelMessages,
    },
  };
  const operations: Record<string, Json> = {};
  const ref = (channelId: string, type: string) => ({ $ref: `#/channels/${channelId}/messages/${type}` });

  for (const type of clientTypes) {
    const replies = REPLIES[type];
    operations[`send${capitalized(type)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${mainId}` },
      summary: CLIENT_MESSAGES[type].summary,
      messages: [ref(mainId, type)],
      ...(replies && { reply: { channel: { $ref: `#/channels/${mainId}` }, messages: replies.map((reply) => ref(mainId, reply)) } }),
    };
  }
  for (const type of serverTypes) {
    operations[`receive${capitalized(type)}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${mainId}` },
      summary: SERVER_MESSAGES[type].summary,
      messages: [ref(mainId, type)],
    };
  }

  for (const path of CONVENIENCE_PATHS) {
    const id = channelIdOf(path.template);
    if (channels[id]) throw new Error(`Two paths make the channel id ${id}`);
    const parameters = [...path.template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
    const channel = path.channel(parameters.length > 0 ? `{${parameters[0]}}` : '');
    channels[id] = {
      address: path.template,
      title: `${path.template} (subscribes to ${channel})`,
      description:
        `The socket of ${WS_PATH}, subscribed to \`${channel}\` as soon as its credentials are accepted (\`subscribed\`). `
        + `If that channel may not be read: an \`error\` message, then close ${CLOSE_CODES.POLICY_VIOLATION}. Every other message is as on ${WS_PATH}.`,
      ...(parameters.length > 0 && {
        parameters: Object.fromEntries(parameters.map((name) => [name, { description: `The id in the channel name \`${channel}\`.` }])),
      }),
      messages: channelMessages,
    };
    operations[`sendOn${capitalized(id)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${id}` },
      summary: `Client messages on ${path.template}`,
      messages: clientTypes.map((type) => ref(id, type)),
    };
    operations[`receiveOn${capitalized(id)}`] = {
      action: 'receive',
      channel: { $ref: `#/channels/${id}` },
      summary: `Server messages on ${path.template}: \`authenticated\`, \`subscribed\` for ${channel}, then its messages`,
      messages: serverTypes.map((type) => ref(id, type)),
    };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'CodeRunner realtime API',
      version: 'v1',
      description: description(),
      license: { name: 'Proprietary (UNLICENSED)' },
    },
    defaultContentType: 'application/json',
    servers: {
      ws: {
        host: '{host}',
        protocol: 'ws',
        description: 'The HTTP API\'s host and port (`wss` behind TLS).',
        variables: { host: { default: 'localhost:3000', description: 'Host and port of the CodeRunner server' } },
        security: [{ $ref: '#/components/securitySchemes/token' }],
      },
    },
    channels,
    operations,
    components: {
      messages: Object.fromEntries([
        ...clientTypes.map((type) => [type, message(type, CLIENT_MESSAGES[type])]),
        ...serverTypes.map((type) => [type, message(type, SERVER_MESSAGES[type])]),
      ]),
      securitySchemes: {
        token: {
          type: 'httpApiKey',
          name: 'token',
          in: 'query',
          description: 'An access token (JWT) or an API key (`sk-…`) in `?token=`. Without it, the first message must be `auth` with the same token.',
        },
      },
    },
  };
}

/** The file as written: 2-space JSON and a trailing newline. */
export function renderAsyncApi(): string {
  return `${JSON.stringify(buildAsyncApiDocument(), null, 2)}\n`;
}

function main(): void {
  const document = renderAsyncApi();
  writeOrCheck('asyncapi.json', document, 'asyncapi');
}

if (require.main === module) {
  try {
    main();
  } catch (error: unknown) {
    console.error(error);
    process.exit(1);
  }
}
