import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { Authors } from '../authors';
import { visibleComment } from '../comment-access';
import { CommentRepository } from '../repositories/comment.repository';
import { PostRepository } from '../repositories/post.repository';
import type { CommentNode } from './list-comments.query';

/** One comment (not deleted, on a post the caller may see) with its author, as a write answers it. */
export class GetCommentQuery extends Query<Pick<CommentNode, 'row' | 'author'>> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetCommentQuery)
export class GetCommentHandler implements IQueryHandler<GetCommentQuery> {
  constructor(
    private readonly comments: CommentRepository,
    private readonly posts: PostRepository,
    private readonly authors: Authors,
  ) {}

  async execute({ id, actor }: GetCommentQuery): Promise<Pick<CommentNode, 'row' | 'author'>> {
    const row = await visibleComment(this.comments, this.posts, id, actor);
    const authors = await this.authors.authorsOf([row.userId]);
    return { row, author: row.userId ? (authors.get(row.userId) ?? null) : null };
  }
}
