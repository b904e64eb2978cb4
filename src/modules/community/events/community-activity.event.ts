export type CommunityActivityType = 'post_like' | 'post_favorite' | 'comment' | 'reply' | 'comment_like' | 'follow';

/**
 * Published on the CQRS EventBus of the replica that did it when someone likes
 * a post or a comment, favorites a post, comments on a post or replies to a
 * comment, or follows a user: the notifications context turns it into a
 * notification of `recipient_id`. Local on purpose: on the cluster bus every
 * replica would write that notification once. Never sent for one's own post,
 * comment or self, nor when a toggle removes its row.
 */
export class CommunityActivityEvent {
  readonly type: CommunityActivityType;
  readonly recipient_id: string;
  readonly actor_id: string;
  readonly post_id?: string;
  readonly comment_id?: string;

  constructor(fields: { type: CommunityActivityType; recipient_id: string; actor_id: string; post_id?: string; comment_id?: string }) {
    this.type = fields.type;
    this.recipient_id = fields.recipient_id;
    this.actor_id = fields.actor_id;
    // Only the ids that apply: a follow names no post, a comment like no post.
    if (fields.post_id !== undefined) this.post_id = fields.post_id;
    if (fields.comment_id !== undefined) this.comment_id = fields.comment_id;
  }
}
