import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { UserEntity } from '../entities/user.entity';
import { newestFirstPage } from '../../../common/database/newest-first-page';
import { UUID_PATTERN as UUID } from '../../../common/ids';

/** What a new user row is made of; the rest comes from the column defaults. */
export type NewUserRow = Pick<UserEntity, 'username' | 'email' | 'name' | 'passwordHash'> &
  Partial<Pick<UserEntity, 'role' | 'level' | 'status' | 'emailVerified'>>;

/** The admin list's filters (all optional; `search` matches username or email). */
export interface UserSearch {
  search?: string;
  role?: string;
  level?: string;
  status?: string;
}

/** The columns of a user card (GetUserCardsQuery, SearchUsersQuery), as the card statements select them. */
export interface UserCardRow {
  id: string;
  username: string;
  name: string | null;
  avatar_url: string | null;
  is_public: boolean;
}

/** Who a profile lookup names: an id, or a username (case-insensitive). */
export type ProfileKey = { id: string } | { username: string };

/** LIKE and ILIKE give %, _ and their escape character \ a meaning of their own; a search means them literally. */
function likeEscaped(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** PostgreSQL refuses a string that is no UUID where a uuid goes; such a string names nobody. */

const CARD_COLUMNS = 'id, username, name, avatar_url, is_public';

/**
 * Who user search finds: active users whose username contains the text, and
 * those whose name does if their profile is public (a private profile is found
 * by its username only). Both sides compare lower() of the column, the
 * expression the pg_trgm GIN indexes were built on: the planner uses an
 * expression index only for that same expression, so `username ILIKE` would
 * scan the table. $1 is the escaped `%text%` pattern.
 */
const SEARCH_MATCH = `status = 'active' AND (lower(username) ILIKE $1 OR (is_public AND lower(name) ILIKE $1))`;

/**
 * The `users` table. Methods that take an `EntityManager` run inside the
 * caller's transaction when given one, else on their own.
 */
@Injectable()
export class UserRepository {
  constructor(@InjectRepository(UserEntity) private readonly users: Repository<UserEntity>) {}

  findById(id: string, manager?: EntityManager): Promise<UserEntity | null> {
    return this.repo(manager).findOneBy({ id });
  }

  /** The user, who must exist (e.g. a session's: the foreign key cascades); throws EntityNotFoundError otherwise. */
  getById(id: string, manager?: EntityManager): Promise<UserEntity> {
    return this.repo(manager).findOneByOrFail({ id });
  }

  /** Reads and locks the row (SELECT … FOR UPDATE) until the caller's transaction ends; null when there is none. */
  lockForUpdate(id: string, manager: EntityManager): Promise<UserEntity | null> {
    return manager.getRepository(UserEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** The account a login names: an email when it contains '@', else a username; case-insensitive; deleted accounts never match. */
  findByLogin(identifier: string): Promise<UserEntity | null> {
    return this.users
      .createQueryBuilder('u')
      .where(identifier.includes('@') ? 'lower(u.email) = lower(:identifier)' : 'lower(u.username) = lower(:identifier)', { identifier })
      .andWhere("u.status <> 'deleted'")
      .getOne();
  }

  /** The user an id or a username names (a username case-insensitively, by the lower(username) unique index); deleted users never match. */
  async findProfile(by: ProfileKey): Promise<UserEntity | null> {
    if ('id' in by && !UUID.test(by.id)) return null;
    const query = this.users.createQueryBuilder('u').where("u.status <> 'deleted'");
    if ('id' in by) query.andWhere('u.id = :id', { id: by.id });
    else query.andWhere('lower(u.username) = lower(:username)', { username: by.username });
    return query.getOne();
  }

  /** The cards of those of `ids` that name a user who is not deleted, in no particular order; one statement (none for no UUID). */
  async findCards(ids: string[]): Promise<UserCardRow[]> {
    const uuids = ids.filter((id) => UUID.test(id));
    if (uuids.length === 0) return [];
    return this.users.query(`SELECT ${CARD_COLUMNS} FROM users WHERE id = ANY($1::uuid[]) AND status <> 'deleted'`, [uuids]);
  }

  /**
   * One page of the cards user search finds for `text` (SEARCH_MATCH), and how
   * many it finds in all. The username that is `text` comes first, then those
   * that start with it, then the rest, each group by username. Usernames are
   * ordered by their characters' codes (COLLATE "C"): the same on every server,
   * where a locale's collation would skip '_' and '-' and order `ab_c` after `abb`.
   */
  async searchCards(text: string, page: { page: number; limit: number }): Promise<{ rows: UserCardRow[]; total: number }> {
    const escaped = likeEscaped(text);
    const [rows, counted] = await Promise.all([
      this.users.query(
        `SELECT ${CARD_COLUMNS} FROM users
         WHERE ${SEARCH_MATCH}
         ORDER BY lower(username) = lower($2) DESC, lower(username) ILIKE $3 DESC, lower(username) COLLATE "C", id
         LIMIT $4 OFFSET $5`,
        [`%${escaped}%`, text, `${escaped}%`, page.limit, (page.page - 1) * page.limit],
      ) as Promise<UserCardRow[]>,
      this.users.query(`SELECT count(*)::int AS total FROM users WHERE ${SEARCH_MATCH}`, [`%${escaped}%`]) as Promise<Array<{ total: number }>>,
    ]);
    return { rows, total: counted[0].total };
  }

  countAdmins(): Promise<number> {
    return this.users.countBy({ role: 'admin' });
  }

  /** One page of the users matching the filters, newest first, and how many match in all. */
  async search(filters: UserSearch, page: { page: number; limit: number }): Promise<{ rows: UserEntity[]; total: number }> {
    const query = this.users.createQueryBuilder('u');
    if (filters.search) {
      const pattern = `%${filters.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query.andWhere('(lower(u.username) LIKE :pattern OR lower(u.email) LIKE :pattern)', { pattern });
    }
    if (filters.role) query.andWhere('u.role = :role', { role: filters.role });
    if (filters.level) query.andWhere('u.level = :level', { level: filters.level });
    if (filters.status) query.andWhere('u.status = :status', { status: filters.status });
    return newestFirstPage(query, { createdAt: 'u.createdAt', id: 'u.id' }, page);
  }

  /** The user's live sessions and unrevoked API keys, counted in one round trip. */
  async countSessionsAndKeys(userId: string): Promise<{ active_sessions: number; api_keys: number }> {
    const [counts] = (await this.users.query(
      `SELECT
         (SELECT count(*)::int FROM user_sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()) AS active_sessions,
         (SELECT count(*)::int FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL) AS api_keys`,
      [userId],
    )) as Array<{ active_sessions: number; api_keys: number }>;
    return counts;
  }

  /** Inserts a user; the unique lower() indexes refuse a taken username or email (23505). */
  insert(row: NewUserRow, manager?: EntityManager): Promise<UserEntity> {
    const users = this.repo(manager);
    return users.save(users.create(row));
  }

  /** Writes the changed columns of a loaded user. */
  save(user: UserEntity, manager?: EntityManager): Promise<UserEntity> {
    return this.repo(manager).save(user);
  }

  /** Sets a new password hash and lifts any login lock. */
  async setPassword(id: string, passwordHash: string, manager?: EntityManager): Promise<void> {
    await this.repo(manager).update({ id }, { passwordHash, failedLoginCount: 0, lockedUntil: null });
  }

  /**
   * Counts a failed login in one atomic UPDATE (exact across concurrent
   * attempts and replicas): a failure within `windowSeconds` of the window's
   * first adds one, an older window starts again at one, and the `attempts`-th
   * failure within the window locks the account for `windowSeconds`.
   */
  async recordFailedLogin(id: string, windowSeconds: number, attempts: number): Promise<void> {
    await this.users.query(
      `UPDATE users SET
         failed_login_count = CASE WHEN failed_login_window_start > now() - make_interval(secs => $2)
                                   THEN failed_login_count + 1 ELSE 1 END,
         failed_login_window_start = CASE WHEN failed_login_window_start > now() - make_interval(secs => $2)
                                   THEN failed_login_window_start ELSE now() END,
         locked_until = CASE WHEN failed_login_window_start > now() - make_interval(secs => $2)
                                  AND failed_login_count + 1 >= $3
                             THEN now() + make_interval(secs => $2) ELSE locked_until END
       WHERE id = $1`,
      [id, windowSeconds, attempts],
    );
  }

  private repo(manager?: EntityManager): Repository<UserEntity> {
    return manager ? manager.getRepository(UserEntity) : this.users;
  }
}
