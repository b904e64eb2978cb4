import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { NotificationRepository, NotificationRow, UnreadFilter } from '../repositories/notification.repository';

export interface NotificationPage {
  rows: NotificationRow[];
  pagination: Pagination;
  /** All of the user's unread notifications, whatever the filter and page. */
  unreadCount: number;
}

/** A page of the user's own notifications, newest first: all, only unread (`unread` true) or only read (false). */
export class ListNotificationsQuery extends Query<NotificationPage> {
  constructor(
    readonly userId: string,
    readonly unread: UnreadFilter,
    readonly page: { page: number; limit: number },
  ) {
    super();
  }
}

@QueryHandler(ListNotificationsQuery)
export class ListNotificationsHandler implements IQueryHandler<ListNotificationsQuery> {
  constructor(private readonly notifications: NotificationRepository) {}

  async execute({ userId, unread, page }: ListNotificationsQuery): Promise<NotificationPage> {
    const { rows, total, unread: unreadCount } = await this.notifications.list(userId, unread, page);
    return { rows, pagination: pagination(total, page), unreadCount };
  }
}
