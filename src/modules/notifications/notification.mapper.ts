import type { NotificationType } from './notification-types';
import type { NotificationRow } from './repositories/notification.repository';

/**
 * A notification as the API shows it, in GET /notifications and in the
 * `notification` message of the WebSocket channel alike (NotificationResponse
 * documents it): a whitelist, so the owner and anything added to the row later
 * stay inside.
 */
export interface NotificationJson {
  id: string;
  type: NotificationType;
  title: string;
  body: string;
  data: Record<string, unknown>;
  read_at: string | null;
  created_at: string;
}

export function toNotificationJson(row: NotificationRow): NotificationJson {
  return {
    id: row.id,
    type: row.type,
    title: row.title,
    body: row.body,
    data: row.data,
    read_at: row.readAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  };
}
