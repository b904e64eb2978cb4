import { randomUUID } from 'node:crypto';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { Client, ClientConfig } from 'pg';
import { AppLogger } from '../logging/app-logger';

const CHANNEL = 'coderunner_cluster';
type Handler = (payload: string) => void;

/**
 * Fan-out of small messages to every replica through PostgreSQL LISTEN/NOTIFY
 * (no extra infrastructure). Used to drop cached state (a revoked session, a
 * disabled key) everywhere at once. Delivery to this replica is immediate and
 * synchronous; other replicas hear it within milliseconds. Caches that depend
 * on it also expire on their own, so a missed message (listener reconnecting)
 * costs at most one TTL.
 */
@Injectable()
export class ClusterBus implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly handlers = new Map<string, Handler[]>();
  private client?: Client;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;
  /** This replica's own messages come back through LISTEN; they were delivered here already. (Not the pid: tests run several apps in one process.) */
  private readonly instanceId = randomUUID();

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: AppLogger,
  ) {}

  subscribe(topic: string, handler: Handler): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
  }

  /** Delivers here at once, then to the other replicas. */
  async publish(topic: string, payload: string): Promise<void> {
    this.deliver(topic, payload);
    await this.dataSource.query('SELECT pg_notify($1, $2)', [CHANNEL, JSON.stringify({ topic, payload, from: this.instanceId })]);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => undefined);
  }

  private deliver(topic: string, payload: string): void {
    for (const handler of this.handlers.get(topic) ?? []) handler(payload);
  }

  private async connect(): Promise<void> {
    const options = this.dataSource.options as { url?: string };
    const client = new Client({ connectionString: options.url } as ClientConfig);
    client.on('notification', (message) => {
      if (!message.payload) return;
      const { topic, payload, from } = JSON.parse(message.payload) as { topic: string; payload: string; from: string };
      if (from !== this.instanceId) this.deliver(topic, payload);
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
