import { Module } from '@nestjs/common';
import { CommunityModule } from '../community/community.module';
import { IdentityModule } from '../identity/identity.module';
import { CreateNotificationHandler } from './commands/create-notification.command';
import { DeleteNotificationHandler } from './commands/delete-notification.command';
import { MarkAllNotificationsReadHandler } from './commands/mark-all-notifications-read.command';
import { MarkNotificationReadHandler } from './commands/mark-notification-read.command';
import { NotificationsController } from './http/notifications.controller';
import { NotificationsSweepJob } from './notifications-sweep.job';
import { ListNotificationsHandler } from './queries/list-notifications.query';
import { NotificationRepository } from './repositories/notification.repository';
import { CommunityActivityNotifier } from './sources/community-activity.notifier';
import { ExecutionFinishedNotifier } from './sources/execution-finished.notifier';
import { FileUploadedNotifier } from './sources/file-uploaded.notifier';

const commandHandlers = [CreateNotificationHandler, MarkNotificationReadHandler, MarkAllNotificationsReadHandler, DeleteNotificationHandler];
const queryHandlers = [ListNotificationsHandler];
const eventHandlers = [CommunityActivityNotifier, FileUploadedNotifier, ExecutionFinishedNotifier];

/**
 * Users' notifications: stored, listed, marked read, swept after 90 days (read)
 * or 365 (any), and pushed live through the realtime context (a RealtimeEvent
 * on the notifications:<user> channel). Written where the thing happened,
 * from local CQRS events, so each is stored once however many replicas run.
 */
@Module({
  // Identity: GetUserCardsQuery (who liked, commented, followed). Community: GetPostQuery and GetCommentQuery
  // (a post's title, a comment's start, as the recipient sees them).
  // Events heard, no module needed (plain classes on the global EventBus): community's CommunityActivityEvent,
  // files' FileUploadedEvent, execution's ExecutionFinishedEvent. Published: RealtimeEvent (common/events),
  // which the realtime context delivers; nothing here depends on it being there.
  imports: [IdentityModule, CommunityModule],
  controllers: [NotificationsController],
  providers: [NotificationRepository, ...commandHandlers, ...queryHandlers, ...eventHandlers, NotificationsSweepJob],
})
export class NotificationsModule {}
