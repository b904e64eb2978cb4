import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { UserEnvironmentEntity } from '../entities/user-environment.entity';

/** Whether a write failed on the one-name-per-owner constraint. */
export function isDuplicateName(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'user_environments_user_id_name_key';
}

/**
 * The `user_environments` table: every statement the environments context
 * makes. Methods that take an `EntityManager` run in the caller's transaction
 * when given one.
 */
@Injectable()
export class EnvironmentRepository {
  constructor(@InjectRepository(UserEnvironmentEntity) private readonly environments: Repository<UserEnvironmentEntity>) {}

  findById(id: string): Promise<UserEnvironmentEntity | null> {
    return this.environments.findOneBy({ id });
  }

  /** The user's own environment of that name (names are unique per owner). */
  findOwnedByName(userId: string, name: string): Promise<UserEnvironmentEntity | null> {
    return this.environments.findOneBy({ userId, name });
  }

  /** Of everyone's environments with that name: the oldest public one, else the oldest private one. */
  findFirstNamed(name: string): Promise<UserEnvironmentEntity | null> {
    return this.environments.findOne({ where: { name }, order: { isPublic: 'DESC', createdAt: 'ASC', id: 'ASC' } });
  }

  /**
   * Holds back every other transaction that takes this lock for the same
   * user until the caller's transaction ends (a transaction-scoped advisory
   * lock): counting and inserting a user's environments behind it is exact.
   */
  async lockOwner(userId: string, manager: EntityManager): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('user_environments:' || $1))`, [userId]);
  }

  countOwnedBy(userId: string, manager: EntityManager = this.environments.manager): Promise<number> {
    return manager.count(UserEnvironmentEntity, { where: { userId } });
  }

  async insert(environment: UserEnvironmentEntity, manager: EntityManager = this.environments.manager): Promise<void> {
    await manager.insert(UserEnvironmentEntity, environment);
  }

  /** A created environment is usable: it is `ready`, with the Python version it got. */
  async markReady(id: string, pythonVersion: string, at: Date): Promise<void> {
    await this.environments.update({ id }, { status: 'ready', pythonVersion, updatedAt: at });
  }

  async updateDetails(id: string, details: Pick<UserEnvironmentEntity, 'name' | 'description' | 'isPublic' | 'updatedAt'>): Promise<void> {
    await this.environments.update({ id }, details);
  }

  /** False when there was no such environment (a concurrent delete won). */
  async delete(id: string): Promise<boolean> {
    const result = await this.environments.delete({ id });
    return Boolean(result.affected);
  }

  /** Newest first: one user's environments, or everyone's (`ownerId` null); one page of them and how many there are. */
  async listNewestFirst(ownerId: string | null, page: { page: number; limit: number }): Promise<{ rows: UserEnvironmentEntity[]; total: number }> {
    const [rows, total] = await this.environments.findAndCount({
      where: ownerId ? { userId: ownerId } : {},
      order: { createdAt: 'DESC', id: 'DESC' },
      skip: (page.page - 1) * page.limit,
      take: page.limit,
    });
    return { rows, total };
  }

  /**
   * The ready environments a user may run with: their own first, then others'
   * public ones, each by name; `take` of them from `skip` on, and how many
   * there are in all.
   */
  async listRunnableBy(userId: string, skip: number, take: number): Promise<{ rows: UserEnvironmentEntity[]; total: number }> {
    const [rows, total] = await this.environments
      .createQueryBuilder('e')
      .where("e.status = 'ready'")
      .andWhere('(e.user_id = :userId OR e.is_public)', { userId })
      .orderBy('e.user_id = :userId', 'DESC')
      .addOrderBy('e.name', 'ASC')
      .addOrderBy('e.created_at', 'ASC')
      // Pages need a total order: the id settles the ties of name and creation time.
      .addOrderBy('e.id', 'ASC')
      .skip(skip)
      .take(take)
      .getManyAndCount();
    return { rows, total };
  }
}
