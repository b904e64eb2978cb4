import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { UserEntity } from '../entities/user.entity';
import { newestFirstPage } from '../../../common/database/newest-first-page';

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
