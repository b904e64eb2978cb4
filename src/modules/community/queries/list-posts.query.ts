import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { pagination, Pagination } from '../../../common/http/pagination';
import { Authors } from '../authors';
import { PostView, withAuthors } from '../post-view';
import { Page, PostRepository } from '../repositories/post.repository';

export interface PostListFilters {
  tag?: string;
  author_id?: string;
  q?: string;
  /** Only posts by the people the caller follows. */
  following?: boolean;
  sort?: 'latest' | 'popular';
}

/**
 * Public posts matching the filters, newest or most popular first, with the
 * caller's likes and favorites. With `author_id` set to the caller (or by an
 * admin) the author's private posts are listed too.
 */
export class ListPostsQuery extends Query<{ posts: PostView[]; pagination: Pagination }> {
  constructor(
    readonly actor: Actor,
    readonly filters: PostListFilters,
    readonly page: Page,
  ) {
    super();
  }
}

@QueryHandler(ListPostsQuery)
export class ListPostsHandler implements IQueryHandler<ListPostsQuery> {
  constructor(
    private readonly posts: PostRepository,
    private readonly authors: Authors,
  ) {}

  async execute({ actor, filters, page }: ListPostsQuery): Promise<{ posts: PostView[]; pagination: Pagination }> {
    const { rows, total } = await this.posts.list(
      actor,
      {
        tag: filters.tag,
        authorId: filters.author_id,
        q: filters.q,
        following: filters.following ? actor.userId : undefined,
        sort: filters.sort ?? 'latest',
        includePrivate: filters.author_id === actor.userId || actor.admin,
      },
      page,
    );
    return { posts: await withAuthors(rows, (ids) => this.authors.authorsOf(ids)), pagination: pagination(total, page) };
  }
}
