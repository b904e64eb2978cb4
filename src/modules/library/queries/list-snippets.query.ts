import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { SnippetEntity } from '../entities/snippet.entity';
import { SnippetRepository, SnippetSearch } from '../repositories/snippet.repository';

export interface SnippetFilters extends SnippetSearch {
  user_id: string;
  page: number;
  limit: number;
}

/** One user's snippets, newest first. */
export class ListSnippetsQuery extends Query<{ rows: SnippetEntity[]; pagination: Pagination }> {
  constructor(readonly filters: SnippetFilters) {
    super();
  }
}

@QueryHandler(ListSnippetsQuery)
export class ListSnippetsHandler implements IQueryHandler<ListSnippetsQuery> {
  constructor(private readonly snippets: SnippetRepository) {}

  async execute({ filters }: ListSnippetsQuery): Promise<{ rows: SnippetEntity[]; pagination: Pagination }> {
    const { rows, total } = await this.snippets.search(filters.user_id, filters, filters);
    return { rows, pagination: pagination(total, filters) };
  }
}
