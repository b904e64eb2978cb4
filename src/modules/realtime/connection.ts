import type { WebSocket } from 'ws';
import type { Principal } from '../../common/auth/principal';

/** One open socket and what the gateway knows of it. */
export interface Connection {
  readonly id: number;
  readonly ws: WebSocket;
  /** Null until the credentials are accepted. */
  principal: Principal | null;
  /** The credential presented, checked again when the user's sessions or keys change. */
  token: string | null;
  /** Subscriptions: the channel as published (`notifications:<user id>`) → as the client named it (`notifications`). */
  readonly channels: Map<string, string>;
  /** A convenience path's channel, subscribed to once the credentials are accepted. */
  initialChannel: string | null;
  /** Answered the last ping (or sent anything since). */
  alive: boolean;
  /** Closed for reading too slowly: nothing more is sent. */
  dropped: boolean;
  /** Messages are handled one after another: an auth message is finished before the subscribe behind it. */
  queue: Promise<void>;
}
