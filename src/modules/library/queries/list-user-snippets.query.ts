import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { SnippetEntity } from '../entities/snippet.entity';
import { SnippetRepository } from '../repositories/snippet.repository';

/** The filters of a user's public listing: no is_public, the viewer decides that. */
export interface UserSnippetFilters {
  q?: string;
  tag?: string;
  language?: string;
  page: number;
  limit: number;
}

/**
 * A user's snippets as `viewerId` sees them on that user's page, newest first:
 * all of them for the user themself, the public ones for anyone else. Admins
 * too see only the public ones here: this is the public listing, and an
 * admin reaches a private snippet by its id (GET /code-library/:id). An
 * unknown user simply has none.
 */
export class ListUserSnippetsQuery extends Query<{ rows: SnippetEntity[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly viewerId: string,
    readonly filters: UserSnippetFilters,
  ) {
    super();
  }
}

@QueryHandler(ListUserSnippetsQuery)
export class ListUserSnippetsHandler implements IQueryHandler<ListUserSnippetsQuery> {
  constructor(private readonly snippets: SnippetRepository) {}

  async execute({ userId, viewerId, filters }: ListUserSnippetsQuery): Promise<{ rows: SnippetEntity[]; pagination: Pagination }> {
    // Not mayRead: it would let an admin list everyone's private snippets on a public page.
    const search = { q: filters.q, tag: filters.tag, language: filters.language, is_public: viewerId === userId ? undefined : true };
    const { rows, total } = await this.snippets.search(userId, search, filters);
    return { rows, pagination: pagination(total, filters) };
  }
}
