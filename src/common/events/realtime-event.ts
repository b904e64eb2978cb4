/** What a channel's server messages say (the WebSocket protocol's `type`; `error` and the acknowledgements are the gateway's own). */
export const REALTIME_MESSAGE_TYPES = ['update', 'log', 'metric', 'message', 'notification'] as const;
export type RealtimeMessageType = (typeof REALTIME_MESSAGE_TYPES)[number];

/** The channel of a user's own notifications, as publishers name it (clients subscribe to `notifications`). */
export const notificationsChannelOf = (userId: string): string => `notifications:${userId}`;

/**
 * Something for the WebSocket subscribers of a channel, published on the CQRS
 * EventBus by the context that owns the channel (`execution:<id>`,
 * `deployment:<id>`, `chat:<id>`, `server:<id>`, or a user's notifications:
 * notificationsChannelOf). The realtime context carries it to every replica
 * and sends it to each socket subscribed there as
 * `{type, channel, payload}`. Publishing never waits for delivery and never
 * fails the publisher: nobody listening is the common case.
 *
 * `payload` must be JSON-serializable; it is serialized once, whatever the
 * number of subscribers.
 */
export class RealtimeEvent {
  constructor(
    readonly channel: string,
    readonly type: RealtimeMessageType,
    readonly payload: unknown,
  ) {}
}

/**
 * Many RealtimeEvents published at once (a burst of log lines): one event on
 * the bus instead of one each, delivered exactly as if published one by one,
 * in order.
 */
export class RealtimeBatchEvent {
  constructor(readonly events: readonly RealtimeEvent[]) {}
}
