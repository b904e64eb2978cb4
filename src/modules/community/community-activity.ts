import { Injectable } from '@nestjs/common';
import { EventBus } from '@nestjs/cqrs';
import { AppLogger } from '../../common/logging/app-logger';
import { CommunityActivityEvent } from './events/community-activity.event';

/**
 * Tells this replica's event handlers what happened (for notifications).
 * Never fails the request: the like or comment is already committed and
 * answered. EventBus.publish returns at once; its handlers run on their own
 * and a failing one is logged (by the handler, else by the bus), so the only
 * error left here is a publish that throws, logged as well.
 */
@Injectable()
export class CommunityActivity {
  constructor(
    private readonly events: EventBus,
    private readonly logger: AppLogger,
  ) {}

  tell(event: CommunityActivityEvent): void {
    if (event.recipient_id === event.actor_id) return;
    try {
      this.events.publish(event);
    } catch (error) {
      this.logger.pino.warn({ err: error, event: event.type }, 'community activity not published');
    }
  }
}
