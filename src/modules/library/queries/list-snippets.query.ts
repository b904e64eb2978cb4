import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { pagination, Pagination } from '../../../common/http/pagination';
import { SnippetEntity } from '../entities/snippet.entity';

export interface SnippetFilters {
  user_id: string;
  /** Case-insensitive substring of title, description or code. */
  q?: string;
  tag?: string;
  language?: string;
  is_public?: boolean;
  page: number;
  limit: number;
}

/** ILIKE treats %, _ and the escape character \ as wildcards; a search means them literally. */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/** One user's snippets, newest first. */
export class ListSnippetsQuery extends Query<{ rows: SnippetEntity[]; pagination: Pagination }> {
  constructor(readonly filters: SnippetFilters) {
    super();
  }
}

@QueryHandler(ListSnippetsQuery)
export class ListSnippetsHandler implements IQueryHandler<ListSnippetsQuery> {
  constructor(@InjectRepository(SnippetEntity) private readonly snippets: Repository<SnippetEntity>) {}

  async execute({ filters }: ListSnippetsQuery): Promise<{ rows: SnippetEntity[]; pagination: Pagination }> {
    const query = this.snippets.createQueryBuilder('s').where('s.user_id = :userId', { userId: filters.user_id });
    // Three ILIKEs, each served by its own pg_trgm GIN index (a BitmapOr) when the user's rows are many.
    if (filters.q) {
      query.andWhere('(s.title ILIKE :pattern OR s.description ILIKE :pattern OR s.code ILIKE :pattern)', { pattern: containsPattern(filters.q) });
    }
    if (filters.tag) query.andWhere('s.tags @> ARRAY[:tag]::text[]', { tag: filters.tag });
    if (filters.language) query.andWhere('s.language = :language', { language: filters.language });
    if (filters.is_public !== undefined) query.andWhere('s.is_public = :isPublic', { isPublic: filters.is_public });
    const [rows, total] = await query
      .orderBy('s.created_at', 'DESC')
      .addOrderBy('s.id', 'DESC')
      .skip((filters.page - 1) * filters.limit)
      .take(filters.limit)
      .getManyAndCount();
    return { rows, pagination: pagination(total, filters) };
  }
}
