import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { visibleComment } from '../comment-access';
import { CommentRepository } from '../repositories/comment.repository';
import { PostRepository } from '../repositories/post.repository';

/**
 * Deletes a comment, by its author or an admin: its text is erased and it
 * shows as "[deleted]"; its replies stay. Someone else's comment is 403;
 * a deleted one, or one on a post the caller cannot see, 404.
 */
export class DeleteCommentCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteCommentCommand)
export class DeleteCommentHandler implements ICommandHandler<DeleteCommentCommand> {
  constructor(
    private readonly comments: CommentRepository,
    private readonly posts: PostRepository,
  ) {}

  async execute({ actor, id }: DeleteCommentCommand): Promise<void> {
    const comment = await visibleComment(this.comments, this.posts, id, actor);
    if (!mayActOn(actor, comment.userId)) throw AppError.forbidden('Only the author or an admin can delete a comment');
    if (!(await this.comments.blankOwned(id, comment.userId, new Date()))) throw AppError.notFound('Comment');
  }
}
