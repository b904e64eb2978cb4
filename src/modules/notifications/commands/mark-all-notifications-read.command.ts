import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { NotificationRepository } from '../repositories/notification.repository';

/** Marks every unread notification of the caller read; answers how many were unread. */
export class MarkAllNotificationsReadCommand extends Command<{ updated: number }> {
  constructor(readonly userId: string) {
    super();
  }
}

@CommandHandler(MarkAllNotificationsReadCommand)
export class MarkAllNotificationsReadHandler implements ICommandHandler<MarkAllNotificationsReadCommand> {
  constructor(private readonly notifications: NotificationRepository) {}

  async execute({ userId }: MarkAllNotificationsReadCommand): Promise<{ updated: number }> {
    return { updated: await this.notifications.markAllRead(userId) };
  }
}
