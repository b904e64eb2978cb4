import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { CommunityActivity } from '../community-activity';
import { CommunityActivityEvent } from '../events/community-activity.event';
import { ReactionRepository, Toggled } from '../repositories/reaction.repository';

export type ReactionKind = 'post_like' | 'post_favorite' | 'comment_like';

const NOT_FOUND: Record<ReactionKind, string> = { post_like: 'Post', post_favorite: 'Post', comment_like: 'Comment' };

/**
 * Likes or favorites a post, or likes a comment, the caller may see; a second
 * call takes it back. A deleted comment cannot be liked (404). Tells the
 * author when a like or favorite is added.
 */
export class ToggleReactionCommand extends Command<Toggled> {
  constructor(
    readonly kind: ReactionKind,
    readonly targetId: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@CommandHandler(ToggleReactionCommand)
export class ToggleReactionHandler implements ICommandHandler<ToggleReactionCommand> {
  constructor(
    private readonly reactions: ReactionRepository,
    private readonly activity: CommunityActivity,
  ) {}

  async execute({ kind, targetId, actor }: ToggleReactionCommand): Promise<Toggled> {
    const toggled = await this.reactions.toggle(kind, targetId, actor);
    if (!toggled) throw AppError.notFound(NOT_FOUND[kind]);
    if (toggled.added && toggled.ownerId) {
      const target = kind === 'comment_like' ? { comment_id: targetId } : { post_id: targetId };
      this.activity.tell(new CommunityActivityEvent({ type: kind, recipient_id: toggled.ownerId, actor_id: actor.userId, ...target }));
    }
    return toggled;
  }
}
