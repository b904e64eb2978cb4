/**
 * Published on the cluster bus (every replica) when someone likes a post or a
 * comment, comments on a post or replies to a comment, or follows a user: the
 * realtime gateway turns it into a notification of `recipient_id`. Never sent
 * for one's own post, comment or self, nor when a toggle removes its row.
 */
export const COMMUNITY_ACTIVITY_TOPIC = 'community.activity';

export interface CommunityActivityEvent {
  type: 'post_like' | 'post_favorite' | 'comment' | 'reply' | 'comment_like' | 'follow';
  recipient_id: string;
  actor_id: string;
  post_id?: string;
  comment_id?: string;
}
