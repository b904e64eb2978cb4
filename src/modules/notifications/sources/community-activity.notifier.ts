import { CommandBus, EventsHandler, IEventHandler, QueryBus } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppLogger } from '../../../common/logging/app-logger';
import { CommunityActivityEvent, CommunityActivityType } from '../../community/events/community-activity.event';
import { GetCommentQuery } from '../../community/queries/get-comment.query';
import { GetPostQuery } from '../../community/queries/get-post.query';
import { GetUserCardsQuery } from '../../identity/queries/get-user-cards.query';
import { CreateNotificationCommand } from '../commands/create-notification.command';
import { clip } from '../plain-text';

/** Post titles are cut to this in a notification's title, so the sentence around them survives. */
const TITLE_QUOTE_CHARS = 80;
/** The start of a comment shown as a notification's body. */
const EXCERPT_CHARS = 200;

/**
 * A like, favorite, comment, reply, comment like or follow (CommunityActivityEvent,
 * published on this replica only) becomes one notification of its recipient:
 * "alice liked your post “Title”", data {actor_id, actor_username, post_id?,
 * comment_id?}. The post's title and the comment are read as the recipient
 * sees them; one that is gone (or hidden) meanwhile leaves the sentence
 * generic. An actor whose account is gone leaves nothing to say. Never
 * throws: a lost notification is logged, the activity itself stands.
 */
@EventsHandler(CommunityActivityEvent)
export class CommunityActivityNotifier implements IEventHandler<CommunityActivityEvent> {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly logger: AppLogger,
  ) {}

  async handle(event: CommunityActivityEvent): Promise<void> {
    try {
      await this.notify(event);
    } catch (error) {
      this.logger.pino.warn({ err: error, event: event.type, recipient_id: event.recipient_id }, 'community notification not written');
    }
  }

  private async notify(event: CommunityActivityEvent): Promise<void> {
    const [actor] = await this.queries.execute(new GetUserCardsQuery([event.actor_id]));
    if (!actor) return;
    const recipient: Actor = { userId: event.recipient_id, admin: false };
    const comment = event.comment_id ? await this.queries.execute(new GetCommentQuery(event.comment_id, recipient)).catch(() => undefined) : undefined;
    // A comment like names only the comment: its post comes from the comment.
    const postId = event.post_id ?? comment?.row.postId;
    const post = postId ? await this.queries.execute(new GetPostQuery(postId, recipient)).catch(() => undefined) : undefined;
    const title = sentence(event.type, actor.username, post ? clip(post.row.title, TITLE_QUOTE_CHARS) : undefined);
    const body = comment && (event.type === 'comment' || event.type === 'reply') ? clip(comment.row.content, EXCERPT_CHARS) : '';
    const data: Record<string, unknown> = { actor_id: actor.id, actor_username: actor.username };
    if (postId) data.post_id = postId;
    if (event.comment_id) data.comment_id = event.comment_id;
    await this.commands.execute(new CreateNotificationCommand(event.recipient_id, event.type, title, body, data));
  }
}

function sentence(type: CommunityActivityType, who: string, postTitle: string | undefined): string {
  const quoted = postTitle ? ` “${postTitle}”` : '';
  switch (type) {
    case 'post_like':
      return `${who} liked your post${quoted}`;
    case 'post_favorite':
      return `${who} added your post${quoted} to their favorites`;
    case 'comment':
      return `${who} commented on your post${quoted}`;
    case 'reply':
      return postTitle ? `${who} replied to your comment on “${postTitle}”` : `${who} replied to your comment`;
    case 'comment_like':
      return postTitle ? `${who} liked your comment on “${postTitle}”` : `${who} liked your comment`;
    case 'follow':
      return `${who} started following you`;
  }
}
