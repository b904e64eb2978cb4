import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { MAX_PAGE } from '../../../common/http/pagination';
import { UserRepository } from '../repositories/user.repository';
import { toUserCard, UserCard } from '../user.mapper';

export type { UserCard } from '../user.mapper';

export interface UserCardSearch {
  /** 1-100 characters, matched case-insensitively and literally (% and _ are no wildcards). */
  q: string;
  page: number;
  /** 1-100. */
  limit: number;
}

export interface UserCardPage {
  rows: UserCard[];
  total: number;
}

const MAX_Q = 100;
const MAX_LIMIT = 100;

/**
 * Finds users by part of their username, or of their name if their profile is
 * public: a private profile must not be findable by the name its owner hid
 * (its username is public anyway). Active users only. The username equal to q
 * comes first, then usernames starting with it, then the rest by username.
 * Served by the pg_trgm indexes on lower(username) and lower(name).
 */
export class SearchUsersQuery extends Query<UserCardPage> {
  constructor(readonly search: UserCardSearch) {
    super();
  }
}

@QueryHandler(SearchUsersQuery)
export class SearchUsersHandler implements IQueryHandler<SearchUsersQuery> {
  constructor(private readonly users: UserRepository) {}

  async execute({ search }: SearchUsersQuery): Promise<UserCardPage> {
    const { q, page, limit } = search;
    // Callers validate their request; this guards the statement (an offset PostgreSQL refuses, a pattern with no end).
    const fields: Record<string, string[]> = {};
    if (typeof q !== 'string' || q.length < 1 || q.length > MAX_Q) fields.q = [`q must be 1-${MAX_Q} characters`];
    if (!Number.isSafeInteger(page) || page < 1 || page > MAX_PAGE) fields.page = [`page must be an integer from 1 to ${MAX_PAGE}`];
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) fields.limit = [`limit must be an integer from 1 to ${MAX_LIMIT}`];
    if (Object.keys(fields).length > 0) throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields });
    const { rows, total } = await this.users.searchCards(q, { page, limit });
    return { rows: rows.map(toUserCard), total };
  }
}
