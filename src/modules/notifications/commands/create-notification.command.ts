import { Command, CommandHandler, EventBus, ICommandHandler } from '@nestjs/cqrs';
import { notificationsChannelOf, RealtimeEvent } from '../../../common/events/realtime-event';
import { uuidv7 } from '../../../common/ids';
import { NotificationJson, toNotificationJson } from '../notification.mapper';
import type { NotificationType } from '../notification-types';
import { clip } from '../plain-text';
import { NotificationRepository } from '../repositories/notification.repository';

/** The longest title the table takes (varchar(200), in characters). */
export const MAX_TITLE_CHARS = 200;

/**
 * Stores a notification of a user and pushes it at once to their open
 * WebSockets (the realtime context carries the RealtimeEvent to every replica).
 * `title` is a short plain-text sentence (cut to 200 characters), never HTML;
 * `data` holds the ids a client links it with. Answers null, and pushes
 * nothing, when the user no longer exists.
 *
 * Send it from the replica where the thing happened, once: every replica
 * sending it would store it once each.
 */
export class CreateNotificationCommand extends Command<NotificationJson | null> {
  constructor(
    readonly userId: string,
    readonly type: NotificationType,
    readonly title: string,
    readonly body: string = '',
    readonly data: Record<string, unknown> = {},
  ) {
    super();
  }
}

@CommandHandler(CreateNotificationCommand)
export class CreateNotificationHandler implements ICommandHandler<CreateNotificationCommand> {
  constructor(
    private readonly notifications: NotificationRepository,
    private readonly events: EventBus,
  ) {}

  async execute({ userId, type, title, body, data }: CreateNotificationCommand): Promise<NotificationJson | null> {
    const row = await this.notifications.insert({ id: uuidv7(), userId, type, title: clip(title, MAX_TITLE_CHARS), body, data });
    if (!row) return null;
    const notification = toNotificationJson(row);
    this.events.publish(new RealtimeEvent(notificationsChannelOf(userId), 'notification', notification));
    return notification;
  }
}
