import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { NotificationRepository, NotificationRow } from '../repositories/notification.repository';

/**
 * Marks one of the caller's notifications read and answers it. Reading it
 * again changes nothing (read_at stays the first one). Anyone else's, an
 * admin's reach included, is 404: notifications are private to their user.
 */
export class MarkNotificationReadCommand extends Command<NotificationRow> {
  constructor(
    readonly userId: string,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(MarkNotificationReadCommand)
export class MarkNotificationReadHandler implements ICommandHandler<MarkNotificationReadCommand> {
  constructor(private readonly notifications: NotificationRepository) {}

  async execute({ userId, id }: MarkNotificationReadCommand): Promise<NotificationRow> {
    const row = await this.notifications.markRead(id, userId);
    if (!row) throw AppError.notFound('Notification');
    return row;
  }
}
