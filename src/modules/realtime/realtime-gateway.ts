import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RawData, WebSocket, WebSocketServer } from 'ws';
import type { Principal } from '../../common/auth/principal';
import { AppError } from '../../common/errors/app-error';
import { UpgradeRouter } from '../../common/http/upgrade-router';
import { AppLogger } from '../../common/logging/app-logger';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AuthenticateTokenQuery } from '../identity/queries/authenticate-token.query';
import { ChannelAccess } from './channel-access';
import type { Connection } from './connection';
import { CLIENT_MESSAGES, CLOSE_CODES, CONVENIENCE_PATHS, ProtocolErrorCode, WS_PATH } from './protocol';
import { RealtimeHub } from './realtime-hub';

/** What GET /admin/realtime shows of this replica's sockets. */
export interface RealtimeStats {
  connections: number;
  authenticated: number;
  users: number;
  subscriptions: Record<string, number>;
  messages_in: number;
  messages_out: number;
  published: number;
  dropped_consumers: number;
}

/** A close reason is at most 123 bytes. */
const reasonOf = (text: string): string => Buffer.from(text).subarray(0, 120).toString().replace(/\uFFFD+$/, '');

/**
 * The WebSocket gateway on the HTTP API's port: /api/v1/ws, and the
 * convenience paths that subscribe to their channel on connecting
 * (protocol.ts). Upgrades are taken from the Node server Fastify listens
 * with, through the `ws` library directly: @nestjs/platform-ws's adapter
 * matches exact paths only (the convenience paths carry ids) and owns the
 * server's upgrade event for every path, where the app's one upgrade listener
 * (UpgradeRouter) also hands the deployments proxy its upgrades. An upgrade on
 * a path nobody serves is answered 404 there.
 *
 * A socket authenticates with `?token=` (a JWT or an API key) or a first
 * `auth` message within REALTIME_AUTH_TIMEOUT_MS (else close 4401); it is
 * checked again whenever the identity context says the user's sessions or keys
 * changed (UserAuthChangedEvent), and closed with 4401 once it no longer
 * holds. Pings every REALTIME_PING_INTERVAL_MS close sockets that stopped
 * answering; messages over REALTIME_MAX_MESSAGE_BYTES close with 1009 (ws);
 * a user's socket beyond REALTIME_MAX_CONNECTIONS_PER_USER closes with 4429.
 * A malformed message gets an `error` message, never a closed socket.
 */
@Injectable()
export class RealtimeGateway implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: WebSocketServer;
  private readonly connections = new Set<Connection>();
  private readonly byUser = new Map<string, Set<Connection>>();
  private pingTimer?: NodeJS.Timeout;
  private nextId = 1;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly upgrades: UpgradeRouter,
    private readonly hub: RealtimeHub,
    private readonly access: ChannelAccess,
    private readonly queries: QueryBus,
    private readonly logger: AppLogger,
  ) {
    // No compression: a deflate context costs each socket hundreds of KB at worst, and most frames are small.
    this.server = new WebSocketServer({ noServer: true, maxPayload: config.realtime.maxMessageBytes, perMessageDeflate: false, clientTracking: false });
  }

  onApplicationBootstrap(): void {
    this.upgrades.register(this.onUpgrade);
    this.pingTimer = setInterval(() => this.pingAll(), this.config.realtime.pingIntervalMs).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pingTimer);
    for (const connection of this.connections) connection.ws.close(CLOSE_CODES.GOING_AWAY, 'server shutting down');
  }

  stats(): RealtimeStats {
    let authenticated = 0;
    for (const connection of this.connections) if (connection.principal) authenticated++;
    return {
      connections: this.connections.size,
      authenticated,
      users: this.byUser.size,
      subscriptions: this.hub.subscriptionsByKind(),
      ...this.hub.counters,
    };
  }

  /** Checks every socket of the user again; those whose credentials no longer hold are closed with 4401. */
  async recheck(userId: string): Promise<void> {
    for (const connection of [...(this.byUser.get(userId) ?? [])]) {
      if (!connection.token) continue;
      try {
        const principal = await this.queries.execute(new AuthenticateTokenQuery(connection.token));
        if (principal.user_id !== userId) throw AppError.unauthorized();
        connection.principal = principal;
      } catch (error) {
        this.close(connection, CLOSE_CODES.UNAUTHORIZED, error instanceof AppError ? error.message : 'Credentials no longer valid');
      }
    }
  }

  /** Takes upgrades on /api/v1/ws and the convenience paths (UpgradeRouter); leaves the rest. */
  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean => {
    let channel: string | null = null;
    if (url.pathname !== WS_PATH) {
      const convenience = CONVENIENCE_PATHS.map((path) => ({ path, match: path.pattern.exec(url.pathname) })).find(({ match }) => match);
      if (!convenience) return false;
      let id: string;
      try {
        id = decodeURIComponent(convenience.match![1] ?? '');
      } catch {
        id = '';
      }
      channel = convenience.path.channel(id);
    }
    const token = url.searchParams.get('token');
    this.server.handleUpgrade(request, socket, head, (ws) => this.open(ws, token, channel));
    return true;
  };

  private open(ws: WebSocket, token: string | null, channel: string | null): void {
    const connection: Connection = {
      id: this.nextId++, ws, principal: null, token: null, channels: new Map(), initialChannel: channel, alive: true, dropped: false, queue: Promise.resolve(),
    };
    this.connections.add(connection);
    ws.on('pong', () => (connection.alive = true));
    ws.on('message', (data, isBinary) => this.enqueue(connection, () => this.onMessage(connection, data, isBinary)));
    ws.on('close', () => this.forget(connection));
    ws.on('error', (error) => this.logger.pino.debug({ err: error }, 'websocket error'));

    if (token !== null) {
      this.enqueue(connection, () => this.authenticate(connection, token));
    } else {
      setTimeout(() => {
        if (!connection.principal) this.close(connection, CLOSE_CODES.UNAUTHORIZED, 'No credentials: send ?token= or an auth message first');
      }, this.config.realtime.authTimeoutMs).unref();
    }
  }

  private enqueue(connection: Connection, work: () => Promise<void>): void {
    connection.queue = connection.queue.then(work).catch((error: unknown) => {
      this.logger.pino.error({ err: error }, 'websocket message failed');
      this.sendError(connection, 'BAD_MESSAGE', 'The message could not be handled');
    });
  }

  private async onMessage(connection: Connection, data: RawData, isBinary: boolean): Promise<void> {
    this.hub.counters.messages_in++;
    connection.alive = true;
    const message = parseMessage(data, isBinary);
    if (!connection.principal) {
      if (message?.type === 'auth' && typeof message.token === 'string') return this.authenticate(connection, message.token);
      // Anything else before authenticating (a closed socket after a failed auth message included) ends it.
      if (connection.ws.readyState === WebSocket.OPEN) this.close(connection, CLOSE_CODES.UNAUTHORIZED, 'Authenticate first: send an auth message');
      return;
    }
    if (!message || typeof message.type !== 'string' || !(message.type in CLIENT_MESSAGES)) {
      return this.sendError(connection, 'BAD_MESSAGE', `Messages are JSON objects with a type: ${Object.keys(CLIENT_MESSAGES).join(', ')}`);
    }
    switch (message.type) {
      case 'auth':
        if (typeof message.token !== 'string') return this.sendError(connection, 'BAD_MESSAGE', 'auth needs a token');
        return this.reauthenticate(connection, message.token);
      case 'subscribe':
        await this.subscribe(connection, message.channel);
        return;
      case 'unsubscribe': {
        if (typeof message.channel !== 'string') return this.sendError(connection, 'BAD_MESSAGE', 'unsubscribe needs a channel');
        for (const [published, clientName] of connection.channels) if (clientName === message.channel) this.hub.unsubscribe(connection, published);
        this.hub.send(connection, JSON.stringify({ type: 'unsubscribed', channel: message.channel }));
        return;
      }
      case 'ping':
        this.hub.send(connection, '{"type":"pong"}');
        return;
    }
  }

  private async authenticate(connection: Connection, token: string): Promise<void> {
    let principal: Principal;
    try {
      principal = await this.queries.execute(new AuthenticateTokenQuery(token));
    } catch (error) {
      return this.close(connection, CLOSE_CODES.UNAUTHORIZED, error instanceof AppError ? error.message : 'Invalid credentials');
    }
    if (connection.ws.readyState !== WebSocket.OPEN) return;
    const mine = this.byUser.get(principal.user_id) ?? new Set<Connection>();
    if (mine.size >= this.config.realtime.maxConnectionsPerUser) {
      return this.close(connection, CLOSE_CODES.TOO_MANY_CONNECTIONS, `At most ${this.config.realtime.maxConnectionsPerUser} connections per user`);
    }
    connection.principal = principal;
    connection.token = token;
    this.byUser.set(principal.user_id, mine.add(connection));
    this.hub.send(connection, JSON.stringify({ type: 'authenticated', payload: { user_id: principal.user_id, username: principal.username } }));
    const channel = connection.initialChannel;
    connection.initialChannel = null;
    if (channel !== null && !(await this.subscribe(connection, channel))) this.close(connection, CLOSE_CODES.POLICY_VIOLATION, 'You may not read this channel');
  }

  /** A fresh token for the same user (an access token is short-lived; the socket need not be). */
  private async reauthenticate(connection: Connection, token: string): Promise<void> {
    let principal: Principal;
    try {
      principal = await this.queries.execute(new AuthenticateTokenQuery(token));
    } catch (error) {
      return this.close(connection, CLOSE_CODES.UNAUTHORIZED, error instanceof AppError ? error.message : 'Invalid credentials');
    }
    if (principal.user_id !== connection.principal?.user_id) return this.sendError(connection, 'ALREADY_AUTHENTICATED', 'This socket belongs to another user');
    connection.principal = principal;
    connection.token = token;
    this.hub.send(connection, JSON.stringify({ type: 'authenticated', payload: { user_id: principal.user_id, username: principal.username } }));
  }

  /** Subscribes if the channel may be read; the answer (`subscribed` or `error`) is sent. */
  private async subscribe(connection: Connection, name: unknown): Promise<boolean> {
    const grant = await this.access.grant(connection.principal!, name);
    if ('error' in grant) {
      this.sendError(connection, grant.error, grant.message, typeof name === 'string' ? name : undefined);
      return false;
    }
    const clientName = name as string;
    if (!connection.channels.has(grant.channel) && connection.channels.size >= this.config.realtime.maxSubscriptions) {
      this.sendError(connection, 'TOO_MANY_SUBSCRIPTIONS', `At most ${this.config.realtime.maxSubscriptions} channels per connection`, clientName);
      return false;
    }
    if (connection.ws.readyState !== WebSocket.OPEN) return false;
    this.hub.subscribe(connection, grant.channel, clientName);
    this.hub.send(connection, JSON.stringify({ type: 'subscribed', channel: clientName }));
    return true;
  }

  private sendError(connection: Connection, code: ProtocolErrorCode, message: string, channel?: string): void {
    this.hub.send(connection, JSON.stringify({ type: 'error', ...(channel !== undefined && { channel }), payload: { code, message } }));
  }

  private close(connection: Connection, code: number, reason: string): void {
    if (connection.ws.readyState === WebSocket.OPEN || connection.ws.readyState === WebSocket.CONNECTING) connection.ws.close(code, reasonOf(reason));
    this.forget(connection);
  }

  private forget(connection: Connection): void {
    if (!this.connections.delete(connection)) return;
    this.hub.removeConnection(connection);
    const userId = connection.principal?.user_id;
    const mine = userId ? this.byUser.get(userId) : undefined;
    if (mine) {
      mine.delete(connection);
      if (mine.size === 0) this.byUser.delete(userId!);
    }
  }

  /** Terminates sockets that did not answer the previous ping, pings the rest. */
  private pingAll(): void {
    for (const connection of this.connections) {
      if (!connection.alive) {
        connection.ws.terminate();
        this.forget(connection);
        continue;
      }
      connection.alive = false;
      if (connection.ws.readyState === WebSocket.OPEN) connection.ws.ping();
    }
  }
}

/** A JSON object message, or null for anything else (binary, not JSON, not an object). */
function parseMessage(data: RawData, isBinary: boolean): Record<string, unknown> | null {
  if (isBinary) return null;
  try {
    const parsed: unknown = JSON.parse(data.toString());
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
