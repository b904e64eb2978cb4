import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { Authors } from '../authors';
import { PostView, withAuthors } from '../post-view';
import { PostRepository } from '../repositories/post.repository';

/** A post the caller may see (public, their own; an admin: any), else 404. */
export class GetPostQuery extends Query<PostView> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetPostQuery)
export class GetPostHandler implements IQueryHandler<GetPostQuery> {
  constructor(
    private readonly posts: PostRepository,
    private readonly authors: Authors,
  ) {}

  async execute({ id, actor }: GetPostQuery): Promise<PostView> {
    const row = await this.posts.findVisible(id, actor);
    if (!row) throw AppError.notFound('Post');
    const [view] = await withAuthors([row], (ids) => this.authors.authorsOf(ids));
    return view;
  }
}
