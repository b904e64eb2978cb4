/**
 * Every kind of notification the API names. The table's CHECK (migration
 * 1765200000000-Notifications) holds the same list: the last four belong to
 * later issues (deployments, tasks, alerts, extensions) and have no source yet.
 */
export const NOTIFICATION_TYPES = [
  'file_upload',
  'post_like',
  'post_favorite',
  'comment',
  'reply',
  'comment_like',
  'follow',
  'execution_finished',
  'deployment_status',
  'task_complete',
  'alert',
  'extension_status',
] as const;

export type NotificationType = (typeof NOTIFICATION_TYPES)[number];
