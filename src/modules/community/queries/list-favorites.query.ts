import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { pagination, Pagination } from '../../../common/http/pagination';
import { Authors } from '../authors';
import { PostView, withAuthors } from '../post-view';
import { Page, PostRepository } from '../repositories/post.repository';

/** The caller's favorited posts (those they may still see), most recently favorited first. */
export class ListFavoritesQuery extends Query<{ posts: PostView[]; pagination: Pagination }> {
  constructor(
    readonly actor: Actor,
    readonly page: Page,
  ) {
    super();
  }
}

@QueryHandler(ListFavoritesQuery)
export class ListFavoritesHandler implements IQueryHandler<ListFavoritesQuery> {
  constructor(
    private readonly posts: PostRepository,
    private readonly authors: Authors,
  ) {}

  async execute({ actor, page }: ListFavoritesQuery): Promise<{ posts: PostView[]; pagination: Pagination }> {
    const { rows, total } = await this.posts.favoritesOf(actor, page);
    return { posts: await withAuthors(rows, (ids) => this.authors.authorsOf(ids)), pagination: pagination(total, page) };
  }
}
