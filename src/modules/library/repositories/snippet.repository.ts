import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SnippetEntity } from '../entities/snippet.entity';
import { newestFirstPage } from '../../../common/database/newest-first-page';

/** The filters of GET /code-library (all optional). */
export interface SnippetSearch {
  /** Case-insensitive substring of title, description or code. */
  q?: string;
  tag?: string;
  language?: string;
  is_public?: boolean;
}

/** ILIKE treats %, _ and the escape character \ as wildcards; a search means them literally. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, '\\$&')}%`;
}

/**
 * The `snippets` table: every statement the library context makes. Ownership
 * rules stay with the handlers; the conditional writes here take the owner the
 * handler checked, so they change nothing that check did not allow.
 */
@Injectable()
export class SnippetRepository {
  constructor(@InjectRepository(SnippetEntity) private readonly snippets: Repository<SnippetEntity>) {}

  findById(id: string): Promise<SnippetEntity | null> {
    return this.snippets.findOneBy({ id });
  }

  /** The owner's user id, or null when there is no such snippet. */
  async ownerOf(id: string): Promise<string | null> {
    const row = await this.snippets.findOne({ select: { userId: true }, where: { id } });
    return row?.userId ?? null;
  }

  async insert(snippet: SnippetEntity): Promise<void> {
    await this.snippets.insert(snippet);
  }

  /** Changes the snippet if it still belongs to `ownerId`; false when it does not (a concurrent delete won). */
  async updateOwned(id: string, ownerId: string, changes: Partial<SnippetEntity>): Promise<boolean> {
    const result = await this.snippets.update({ id, userId: ownerId }, changes);
    return Boolean(result.affected);
  }

  /** Deletes the snippet if it still belongs to `ownerId`; false when it does not (a concurrent delete won). */
  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    const result = await this.snippets.delete({ id, userId: ownerId });
    return Boolean(result.affected);
  }

  /** How many snippets a user has: all, or only the public ones. */
  countOwned(ownerId: string, publicOnly: boolean): Promise<number> {
    return this.snippets.countBy(publicOnly ? { userId: ownerId, isPublic: true } : { userId: ownerId });
  }

  /** One page of a user's snippets matching the filters, newest first, and how many match in all. */
  async search(ownerId: string, filters: SnippetSearch, page: { page: number; limit: number }): Promise<{ rows: SnippetEntity[]; total: number }> {
    const query = this.snippets.createQueryBuilder('s').where('s.user_id = :userId', { userId: ownerId });
    // Three ILIKEs, each served by its own pg_trgm GIN index (a BitmapOr) when the user's rows are many.
    if (filters.q) {
      query.andWhere('(s.title ILIKE :pattern OR s.description ILIKE :pattern OR s.code ILIKE :pattern)', { pattern: containsPattern(filters.q) });
    }
    if (filters.tag) query.andWhere('s.tags @> ARRAY[:tag]::text[]', { tag: filters.tag });
    if (filters.language) query.andWhere('s.language = :language', { language: filters.language });
    if (filters.is_public !== undefined) query.andWhere('s.is_public = :isPublic', { isPublic: filters.is_public });
    return newestFirstPage(query, { createdAt: 's.created_at', id: 's.id' }, page);
  }
}
