import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { PostRepository } from '../repositories/post.repository';

/**
 * Deletes a post with its comments, likes, favorites and views, by its author
 * or an admin. Someone else's post answers 403 if the caller can see it, 404 if not.
 */
export class DeletePostCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(DeletePostCommand)
export class DeletePostHandler implements ICommandHandler<DeletePostCommand> {
  constructor(private readonly posts: PostRepository) {}

  async execute({ actor, id }: DeletePostCommand): Promise<void> {
    const access = await this.posts.accessOf(id);
    if (!access) throw AppError.notFound('Post');
    if (!mayActOn(actor, access.userId)) {
      if (access.isPublic) throw AppError.forbidden('Only the author or an admin can delete a post');
      throw AppError.notFound('Post');
    }
    if (!(await this.posts.deleteOwned(id, access.userId))) throw AppError.notFound('Post');
  }
}
