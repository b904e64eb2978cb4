import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { NotificationRepository } from '../repositories/notification.repository';

/** Deletes one of the caller's notifications; anyone else's (an admin's reach included) is 404. */
export class DeleteNotificationCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteNotificationCommand)
export class DeleteNotificationHandler implements ICommandHandler<DeleteNotificationCommand> {
  constructor(private readonly notifications: NotificationRepository) {}

  async execute({ userId, id }: DeleteNotificationCommand): Promise<void> {
    if (!(await this.notifications.deleteOwned(id, userId))) throw AppError.notFound('Notification');
  }
}
