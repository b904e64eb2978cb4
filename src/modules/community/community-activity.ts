import { Injectable } from '@nestjs/common';
import { ClusterBus } from '../../common/events/cluster-bus';
import { AppLogger } from '../../common/logging/app-logger';
import { COMMUNITY_ACTIVITY_TOPIC, CommunityActivityEvent } from './events/community-activity.event';

/**
 * Tells the cluster what happened (for notifications). Not awaited by the
 * request: the like or comment is already committed and answered; a lost
 * notification is logged, never turned into a failed request.
 */
@Injectable()
export class CommunityActivity {
  constructor(
    private readonly bus: ClusterBus,
    private readonly logger: AppLogger,
  ) {}

  tell(event: CommunityActivityEvent): void {
    if (event.recipient_id === event.actor_id) return;
    this.bus.publish(COMMUNITY_ACTIVITY_TOPIC, JSON.stringify(event)).catch((error: unknown) => {
      this.logger.pino.warn({ err: error, event: event.type }, 'community activity not published');
    });
  }
}
