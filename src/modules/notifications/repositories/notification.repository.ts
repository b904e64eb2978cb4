import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { NotificationType } from '../notification-types';

export interface NotificationRow {
  id: string;
  userId: string;
  type: NotificationType;
  title: string;
  body: string;
  data: Record<string, unknown>;
  readAt: Date | null;
  createdAt: Date;
}

export type NewNotification = Pick<NotificationRow, 'id' | 'userId' | 'type' | 'title' | 'body' | 'data'>;

/** Which of a user's notifications a list shows: all (undefined), only unread ones (true) or only read ones (false). */
export type UnreadFilter = boolean | undefined;

const COLUMNS = `id, user_id AS "userId", type, title, body, data, read_at AS "readAt", created_at AS "createdAt"`;
const FOREIGN_KEY_VIOLATION = '23503';

/**
 * `notifications` (migration 1765200000000-Notifications): every statement of
 * the notifications context. Every read and write but the insert and the
 * sweep names the owner, so someone else's notification is simply not found.
 */
@Injectable()
export class NotificationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The stored row (created_at from the database), or null when the user no longer exists. */
  async insert(notification: NewNotification): Promise<NotificationRow | null> {
    try {
      const rows: NotificationRow[] = await this.dataSource.query(
        `INSERT INTO notifications (id, user_id, type, title, body, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
        [notification.id, notification.userId, notification.type, notification.title, notification.body, notification.data],
      );
      return rows[0];
    } catch (error) {
      // The user was deleted between the event and the insert: nobody left to tell.
      if ((error as { code?: string }).code === FOREIGN_KEY_VIOLATION) return null;
      throw error;
    }
  }

  /**
   * A page of a user's notifications, newest first, with the number the filter
   * matches and the number unread (one statement counts both: the unread ones
   * come from the partial index).
   */
  async list(userId: string, unread: UnreadFilter, page: { page: number; limit: number }): Promise<{ rows: NotificationRow[]; total: number; unread: number }> {
    const filter = unread === undefined ? '' : unread ? 'AND read_at IS NULL' : 'AND read_at IS NOT NULL';
    const [rows, counted]: [NotificationRow[], Array<{ everything: number; unread: number }>] = await Promise.all([
      this.dataSource.query(
        `SELECT ${COLUMNS} FROM notifications WHERE user_id = $1 ${filter}
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3`,
        [userId, page.limit, (page.page - 1) * page.limit],
      ),
      this.dataSource.query(
        `SELECT count(*)::int AS everything, count(*) FILTER (WHERE read_at IS NULL)::int AS unread FROM notifications WHERE user_id = $1`,
        [userId],
      ),
    ]);
    const { everything, unread: unreadCount } = counted[0];
    const total = unread === undefined ? everything : unread ? unreadCount : everything - unreadCount;
    return { rows, total, unread: unreadCount };
  }

  /** Marks one of the user's notifications read; one read already keeps its first read_at. Null: not theirs, or none. */
  async markRead(id: string, userId: string): Promise<NotificationRow | null> {
    const [rows]: [NotificationRow[], number] = await this.dataSource.query(
      `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING ${COLUMNS}`,
      [id, userId],
    );
    return rows[0] ?? null;
  }

  /** Marks every unread notification of the user read; how many there were. */
  async markAllRead(userId: string): Promise<number> {
    const [, updated]: [unknown, number] = await this.dataSource.query(
      `UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`,
      [userId],
    );
    return updated;
  }

  async deleteOwned(id: string, userId: string): Promise<boolean> {
    const [, deleted]: [unknown, number] = await this.dataSource.query(`DELETE FROM notifications WHERE id = $1 AND user_id = $2`, [id, userId]);
    return deleted > 0;
  }

  /** Deletes read notifications created before `readBefore` and any created before `anyBefore`; how many. */
  async sweep(readBefore: Date, anyBefore: Date): Promise<number> {
    const [, deleted]: [unknown, number] = await this.dataSource.query(
      `DELETE FROM notifications WHERE created_at < $2 OR (created_at < $1 AND read_at IS NOT NULL)`,
      [readBefore, anyBefore],
    );
    return deleted;
  }
}
