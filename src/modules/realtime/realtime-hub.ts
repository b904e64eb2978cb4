import { Inject, Injectable } from '@nestjs/common';
import { WebSocket } from 'ws';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import type { Connection } from './connection';
import { CLOSE_CODES } from './protocol';

/** A dropped consumer that does not finish the closing handshake is cut off after this long. */
const CLOSE_GRACE_MS = 10_000;

/** What an operator sees of this replica's traffic (GET /admin/realtime). */
export interface HubCounters {
  messages_in: number;
  messages_out: number;
  published: number;
  dropped_consumers: number;
}

/**
 * This replica's subscriptions and the delivery of channel messages to them.
 * A message is serialized once per channel whatever the number of sockets, and
 * never buffered without bound: a socket whose unsent data has passed
 * REALTIME_MAX_BUFFERED_BYTES when the next message comes is closed with 4008
 * (slow consumer) instead.
 */
@Injectable()
export class RealtimeHub {
  private readonly subscribers = new Map<string, Set<Connection>>();
  readonly counters: HubCounters = { messages_in: 0, messages_out: 0, published: 0, dropped_consumers: 0 };

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Adds the subscription; false when it was there already. */
  subscribe(connection: Connection, channel: string, clientName: string): boolean {
    if (connection.channels.has(channel)) return false;
    connection.channels.set(channel, clientName);
    let set = this.subscribers.get(channel);
    if (!set) this.subscribers.set(channel, (set = new Set()));
    set.add(connection);
    return true;
  }

  unsubscribe(connection: Connection, channel: string): void {
    connection.channels.delete(channel);
    const set = this.subscribers.get(channel);
    set?.delete(connection);
    if (set?.size === 0) this.subscribers.delete(channel);
  }

  removeConnection(connection: Connection): void {
    for (const channel of [...connection.channels.keys()]) this.unsubscribe(connection, channel);
  }

  /** Sends a channel message to this replica's subscribers; `payloadJson` is the payload already serialized. */
  deliver(channel: string, type: string, payloadJson: string): void {
    this.counters.published++;
    const set = this.subscribers.get(channel);
    if (!set) return;
    let frame: string | undefined;
    for (const connection of set) {
      // Every subscriber of a channel knows it by the same name; the frame is made once, for the first.
      frame ??= `{"type":${JSON.stringify(type)},"channel":${JSON.stringify(connection.channels.get(channel))},"payload":${payloadJson}}`;
      this.send(connection, frame);
    }
  }

  /** Sends a frame unless the socket is gone or reads too slowly (then it is dropped). */
  send(connection: Connection, frame: string): void {
    const { ws } = connection;
    if (connection.dropped || ws.readyState !== WebSocket.OPEN) return;
    // Judged before sending, so one message larger than the limit still reaches a socket that keeps up.
    if (ws.bufferedAmount > this.config.realtime.maxBufferedBytes) {
      this.drop(connection);
      return;
    }
    ws.send(frame);
    this.counters.messages_out++;
  }

  /** Subscriptions by channel kind (`execution`, `notifications`, …), counting each socket's once. */
  subscriptionsByKind(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [channel, set] of this.subscribers) {
      const kind = channel.split(':', 1)[0];
      counts[kind] = (counts[kind] ?? 0) + set.size;
    }
    return counts;
  }

  private drop(connection: Connection): void {
    connection.dropped = true;
    this.counters.dropped_consumers++;
    this.removeConnection(connection);
    // The close frame waits behind the unsent data; a client that never reads is cut off.
    connection.ws.close(CLOSE_CODES.SLOW_CONSUMER, 'slow consumer');
    setTimeout(() => connection.ws.terminate(), CLOSE_GRACE_MS).unref();
  }
}
