import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { CommentRepository } from '../repositories/comment.repository';
import { visibleComment } from '../comment-access';
import { PostRepository } from '../repositories/post.repository';

/** New text for a comment, by its author only; someone else's comment is 403, a deleted one 404. */
export class UpdateCommentCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly content: string,
  ) {
    super();
  }
}

@CommandHandler(UpdateCommentCommand)
export class UpdateCommentHandler implements ICommandHandler<UpdateCommentCommand> {
  constructor(
    private readonly comments: CommentRepository,
    private readonly posts: PostRepository,
  ) {}

  async execute({ actor, id, content }: UpdateCommentCommand): Promise<void> {
    const comment = await visibleComment(this.comments, this.posts, id, actor);
    if (comment.userId !== actor.userId) throw AppError.forbidden('Only the author can edit a comment');
    if (!(await this.comments.updateOwned(id, actor.userId, content, new Date()))) throw AppError.notFound('Comment');
  }
}
