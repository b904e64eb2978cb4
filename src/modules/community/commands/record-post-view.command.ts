import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { PostRepository } from '../repositories/post.repository';

/**
 * Counts a view of a post (GET /community/posts/:id): once per user and post
 * per hour, never the author's own, never a post the viewer may not see.
 * Answers whether it counted.
 */
export class RecordPostViewCommand extends Command<boolean> {
  constructor(
    readonly actor: Actor,
    readonly postId: string,
  ) {
    super();
  }
}

@CommandHandler(RecordPostViewCommand)
export class RecordPostViewHandler implements ICommandHandler<RecordPostViewCommand> {
  constructor(private readonly posts: PostRepository) {}

  execute({ actor, postId }: RecordPostViewCommand): Promise<boolean> {
    return this.posts.recordView(postId, actor);
  }
}
