import { EventsHandler, IEventHandler } from '@nestjs/cqrs';
import { UserAuthChangedEvent } from '../identity/events/user-auth-changed.event';
import { RealtimeGateway } from './realtime-gateway';

/** A user's sessions or keys changed: their open sockets are checked again (and closed with 4401 if they no longer hold). */
@EventsHandler(UserAuthChangedEvent)
export class UserAuthChangedHandler implements IEventHandler<UserAuthChangedEvent> {
  constructor(private readonly gateway: RealtimeGateway) {}

  handle({ userId }: UserAuthChangedEvent): void {
    void this.gateway.recheck(userId);
  }
}
