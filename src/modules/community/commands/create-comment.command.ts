import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { CommunityActivity } from '../community-activity';
import { CommunityActivityEvent } from '../events/community-activity.event';
import { CommentRepository } from '../repositories/comment.repository';
import { PostRepository } from '../repositories/post.repository';

/**
 * Replies nest to any depth a client can show; past this a thread is refused
 * (400): every level is one more level of JSON in the answer.
 */
export const MAX_COMMENT_DEPTH = 200;

export interface CommentInput {
  content: string;
  parent_id?: string;
}

/**
 * Comments on a post the caller may see, or replies to a comment of the same
 * post (another post's comment as parent: 400). Tells the post's author, and
 * the author of the comment replied to.
 */
export class CreateCommentCommand extends Command<{ id: string }> {
  constructor(
    readonly actor: Actor,
    readonly postId: string,
    readonly input: CommentInput,
  ) {
    super();
  }
}

@CommandHandler(CreateCommentCommand)
export class CreateCommentHandler implements ICommandHandler<CreateCommentCommand> {
  constructor(
    private readonly posts: PostRepository,
    private readonly comments: CommentRepository,
    private readonly activity: CommunityActivity,
  ) {}

  async execute({ actor, postId, input }: CreateCommentCommand): Promise<{ id: string }> {
    const post = await this.posts.findVisible(postId, actor);
    if (!post) throw AppError.notFound('Post');
    const id = uuidv7();
    let place = { parentId: null as string | null, rootId: id, depth: 0 };
    let parentAuthor: string | null = null;
    if (input.parent_id !== undefined) {
      const parent = await this.comments.findById(input.parent_id, actor.userId);
      if (!parent || parent.postId !== postId) {
        // The post deleted meanwhile (its comments with it) is a 404, not a bad parent_id.
        if (!parent && !(await this.posts.accessOf(postId))) throw AppError.notFound('Post');
        throw invalidParent('parent_id must be a comment of this post');
      }
      if (parent.depth + 1 > MAX_COMMENT_DEPTH) throw invalidParent(`replies nest at most ${MAX_COMMENT_DEPTH} levels deep`);
      place = { parentId: parent.id, rootId: parent.rootId, depth: parent.depth + 1 };
      parentAuthor = parent.deletedAt ? null : parent.userId;
    }
    const now = new Date();
    try {
      await this.comments.insert({ id, postId, userId: actor.userId, ...place, content: input.content, createdAt: now, updatedAt: now });
    } catch (error) {
      // The post (or the parent, with it) was deleted meanwhile.
      if ((error as { code?: string }).code === '23503') throw AppError.notFound('Post');
      throw error;
    }
    this.activity.tell(new CommunityActivityEvent({ type: 'comment', recipient_id: post.userId, actor_id: actor.userId, post_id: postId, comment_id: id }));
    if (parentAuthor && parentAuthor !== post.userId) {
      this.activity.tell(new CommunityActivityEvent({ type: 'reply', recipient_id: parentAuthor, actor_id: actor.userId, post_id: postId, comment_id: id }));
    }
    return { id };
  }
}

function invalidParent(message: string): AppError {
  return new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { parent_id: [message] } });
}
