import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Notifications: what happened to a user while they looked elsewhere (a like,
 * a comment, a follow, an upload, a finished run), each also pushed live to
 * their WebSockets when written.
 *
 * `type` is checked against every kind the API names, those of later issues
 * (deployments, tasks, alerts, extensions) included, so adding their sources
 * needs no migration. `data` holds the ids a client needs to link the
 * notification to its subject (always an object).
 *
 * The list reads `(user_id, created_at DESC, id DESC)` (newest first, ties by
 * id); the unread count and `?unread=true` read the partial index of unread
 * rows, which stays small however long a user keeps read ones. The
 * notifications.sweep job deletes by age through the index on created_at.
 */
export class Notifications1765200000000 implements MigrationInterface {
  name = 'Notifications1765200000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        type varchar(32) NOT NULL CHECK (type IN (
          'file_upload', 'post_like', 'post_favorite', 'comment', 'reply', 'comment_like', 'follow', 'execution_finished',
          'deployment_status', 'task_complete', 'alert', 'extension_status'
        )),
        title varchar(200) NOT NULL,
        body text NOT NULL DEFAULT '',
        data jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
        read_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX notifications_user_created_idx ON notifications (user_id, created_at DESC, id DESC)`);
    await db.query(`CREATE INDEX notifications_user_unread_idx ON notifications (user_id, created_at DESC) WHERE read_at IS NULL`);
    await db.query(`CREATE INDEX notifications_created_idx ON notifications (created_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP TABLE notifications`);
  }
}
