import { Injectable, OnModuleInit } from '@nestjs/common';
import { EventsHandler, IEventHandler } from '@nestjs/cqrs';
import { ClusterBus } from '../../common/events/cluster-bus';
import { RealtimeBatchEvent, RealtimeEvent } from '../../common/events/realtime-event';
import { AppLogger } from '../../common/logging/app-logger';
import { RealtimeHub } from './realtime-hub';

const TOPIC = 'realtime';

/** One channel message between replicas: channel, type and the payload already serialized. */
type Wire = [channel: string, type: string, payloadJson: string];

/**
 * The one path of channel messages: a RealtimeEvent published on the EventBus
 * by any context is serialized once, gathered with the others of the same
 * event-loop turn into one cluster message (ClusterBus: NOTIFY or Redis, so a
 * flood of log lines is a few messages, not one database round trip each), and
 * every replica's hub — this one's included — delivers it to its subscribers,
 * in publishing order.
 */
@Injectable()
@EventsHandler(RealtimeEvent, RealtimeBatchEvent)
export class RealtimeRelay implements IEventHandler<RealtimeEvent | RealtimeBatchEvent>, OnModuleInit {
  private batch: Wire[] = [];

  constructor(
    private readonly bus: ClusterBus,
    private readonly hub: RealtimeHub,
    private readonly logger: AppLogger,
  ) {}

  onModuleInit(): void {
    this.bus.subscribe(TOPIC, (message) => {
      for (const [channel, type, payloadJson] of JSON.parse(message) as Wire[]) this.hub.deliver(channel, type, payloadJson);
    });
  }

  handle(event: RealtimeEvent | RealtimeBatchEvent): void {
    if (event instanceof RealtimeBatchEvent) {
      for (const one of event.events) this.add(one);
    } else {
      this.add(event);
    }
  }

  private add(event: RealtimeEvent): void {
    let payloadJson: string | undefined;
    try {
      payloadJson = JSON.stringify(event.payload ?? null);
    } catch (error) {
      this.logger.pino.error({ err: error, channel: event.channel }, 'realtime payload is not serializable; dropped');
      return;
    }
    this.batch.push([event.channel, event.type, payloadJson]);
    if (this.batch.length === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.bus.publish(TOPIC, JSON.stringify(batch)).catch((error: unknown) => {
      this.logger.pino.warn({ err: error, messages: batch.length }, 'realtime messages not sent to the other replicas');
    });
  }
}
