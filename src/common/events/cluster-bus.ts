import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { Client, ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AppLogger } from '../logging/app-logger';

const CHANNEL = 'coderunner_cluster';
/** NOTIFY refuses a payload of 8 000 bytes or more; a larger message is stored in cluster_messages and NOTIFY carries its id. */
const NOTIFY_LIMIT_BYTES = 7_900;
/** Stored messages are read within milliseconds; older ones are deleted (at most once a minute, by the replica writing one). */
const STORED_MESSAGE_TTL = '5 minutes';
const SWEEP_EVERY_MS = 60_000;

type Handler = (payload: string) => void;
/** What travels between replicas: the message itself, or (PostgreSQL, large messages) the id of its row in cluster_messages. */
type Envelope = { topic: string; payload: string; from: string } | { ref: string; from: string };

/**
 * Fan-out of messages to every replica: PostgreSQL LISTEN/NOTIFY by default (no
 * extra infrastructure; a message over NOTIFY's 8 000-byte limit goes through
 * the unlogged table cluster_messages), Redis pub/sub when REDIS_URL is set.
 * Used to drop cached state (a revoked session, a disabled key) everywhere at
 * once and to carry realtime events to every replica's sockets.
 *
 * Delivery to this replica is immediate and synchronous; other replicas hear it
 * within milliseconds, in the order it was published. Nothing is kept for a
 * replica that is not listening: caches that depend on this also expire on
 * their own, and realtime messages are live by nature.
 */
@Injectable()
export class ClusterBus implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly handlers = new Map<string, Handler[]>();
  private client?: Client;
  private redisPublisher?: Redis;
  private redisSubscriber?: Redis;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  /** Incoming messages in arrival order: a large one (read from its table) must not be overtaken by the small one after it. */
  private incoming: Promise<void> = Promise.resolve();
  /** Outgoing messages one at a time: two NOTIFYs on two pool connections at once may arrive in either order. */
  private outgoing: Promise<void> = Promise.resolve();
  private lastSweep = 0;
  /** This replica's own messages come back through LISTEN; they were delivered here already. (Not the pid: tests run several apps in one process.) */
  private readonly instanceId = randomUUID();

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  subscribe(topic: string, handler: Handler): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /** Delivers here at once, then to the other replicas, after every message published before it. */
  publish(topic: string, payload: string): Promise<void> {
    this.deliver(topic, payload);
    const message = JSON.stringify({ topic, payload, from: this.instanceId } satisfies Envelope);
    const sent = this.outgoing.then(() => this.send(message));
    // The chain goes on past a failed message; the failure is the caller's to see.
    this.outgoing = sent.catch(() => undefined);
    return sent;
  }

  private async send(message: string): Promise<void> {
    if (this.redisPublisher) {
      await this.redisPublisher.publish(this.redisChannel(), message);
      return;
    }
    if (Buffer.byteLength(message) < NOTIFY_LIMIT_BYTES) {
      await this.dataSource.query('SELECT pg_notify($1, $2)', [CHANNEL, message]);
      return;
    }
    const rows: Array<{ id: string }> = await this.dataSource.query('INSERT INTO cluster_messages (body) VALUES ($1) RETURNING id::text AS id', [message]);
    await this.dataSource.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ ref: rows[0].id, from: this.instanceId } satisfies Envelope)]);
    await this.sweepStoredMessages();
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.redisUrl) this.connectRedis(this.config.redisUrl);
    else await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => undefined);
    for (const redis of [this.redisSubscriber, this.redisPublisher]) await redis?.quit().catch(() => redis.disconnect());
  }

  private deliver(topic: string, payload: string): void {
    for (const handler of this.handlers.get(topic) ?? []) {
      try {
        handler(payload);
      } catch (error) {
        this.logger.pino.error({ err: error, topic }, 'cluster bus handler failed');
      }
    }
  }

  /** A message from another replica, in arrival order. */
  private receive(raw: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(raw) as Envelope;
    } catch {
      return;
    }
    if (envelope.from === this.instanceId) return;
    this.incoming = this.incoming.then(async () => {
      if ('topic' in envelope) return this.deliver(envelope.topic, envelope.payload);
      const rows: Array<{ body: string }> = await this.dataSource.query('SELECT body FROM cluster_messages WHERE id = $1', [envelope.ref]);
      // Swept already: the message is older than anything a listener still wants.
      if (!rows[0]) return;
      // Delivered here, in its turn: queued again, it would fall behind the messages that arrived while it was read.
      const stored = JSON.parse(rows[0].body) as { topic: string; payload: string };
      this.deliver(stored.topic, stored.payload);
    }).catch((error: unknown) => this.logger.pino.warn({ err: error }, 'cluster bus message lost'));
  }

  private async sweepStoredMessages(): Promise<void> {
    if (Date.now() - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = Date.now();
    await this.dataSource.query(`DELETE FROM cluster_messages WHERE created_at < now() - interval '${STORED_MESSAGE_TTL}'`);
  }

  private redisChannel(): string {
    return `${this.config.redisKeyPrefix}${CHANNEL}`;
  }

  private connectRedis(url: string): void {
    // ioredis reconnects by itself; a subscriber connection can only subscribe, hence two.
    this.redisPublisher = new Redis(url, { maxRetriesPerRequest: 1 });
    this.redisSubscriber = new Redis(url);
    for (const redis of [this.redisPublisher, this.redisSubscriber]) {
      redis.on('error', (error) => this.logger.pino.warn({ err: error }, 'cluster bus: Redis connection failed; retrying'));
    }
    this.redisSubscriber.on('message', (_channel: string, message: string) => this.receive(message));
    // Not awaited: an unreachable Redis must not hold up the start; ioredis subscribes once it connects.
    this.redisSubscriber.subscribe(this.redisChannel()).catch((error: unknown) => this.logger.pino.warn({ err: error }, 'cluster bus: Redis subscribe failed'));
  }

  private async connect(): Promise<void> {
    const options = this.dataSource.options as { url?: string };
    // TCP keep-alive: a connection that died without a word (a host gone, a NAT forgetting it) errors and is made again.
    const client = new Client({ connectionString: options.url, keepAlive: true, keepAliveInitialDelayMillis: 10_000 } as ClientConfig);
    client.on('notification', (message) => {
      if (message.payload) this.receive(message.payload);
    });
    client.on('error', (error) => {
      this.logger.pino.warn({ err: error }, 'cluster bus connection lost; reconnecting');
      this.scheduleReconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
      this.client = client;
    } catch (error) {
      this.logger.pino.warn({ err: error }, 'cluster bus could not listen; retrying');
      await client.end().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, 1000);
  }
}
