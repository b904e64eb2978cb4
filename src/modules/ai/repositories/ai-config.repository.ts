import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { newestFirstPage } from '../../../common/database/newest-first-page';
import { AiConfigEntity } from '../entities/ai-config.entity';

/** Whether a write failed on the one-name-per-user constraint. */
export function isDuplicateName(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'ai_configs_user_id_name_key';
}

/**
 * Whether a write failed on the one-active-config-per-provider index. The
 * handlers deactivate the others first behind the owner's lock, so only a
 * writer that bypasses them can meet it.
 */
export function isSecondActive(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'ai_configs_one_active_key';
}

/**
 * The `ai_configs` table: every statement the AI context makes about configs.
 * Ownership rules stay with the handlers; the conditional writes take the
 * owner the handler checked, so they change nothing that check did not allow.
 * Methods that take an `EntityManager` run in the caller's transaction.
 */
@Injectable()
export class AiConfigRepository {
  constructor(@InjectRepository(AiConfigEntity) private readonly configs: Repository<AiConfigEntity>) {}

  findById(id: string): Promise<AiConfigEntity | null> {
    return this.configs.findOneBy({ id });
  }

  /** The owner's user id, or null when there is no such config. */
  async ownerOf(id: string): Promise<string | null> {
    const row = await this.configs.findOne({ select: { id: true, userId: true }, where: { id } });
    return row?.userId ?? null;
  }

  /** The user's active config of that provider (there is at most one), or null. */
  findActive(userId: string, provider: string): Promise<AiConfigEntity | null> {
    return this.configs.findOneBy({ userId, provider, isActive: true });
  }

  /**
   * Holds back every other transaction that takes this lock for the same user
   * until the caller's transaction ends (a transaction-scoped advisory lock).
   * Every write that may activate a config, and every create, takes it first:
   * the deactivation of the others and the activation then run one writer at a
   * time per user, and counting the user's configs before an insert is exact.
   */
  async lockOwner(manager: EntityManager, userId: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext('ai_configs:' || $1))`, [userId]);
  }

  /** The config, read inside the caller's transaction, if it still belongs to `ownerId`. */
  findOwned(manager: EntityManager, id: string, ownerId: string): Promise<AiConfigEntity | null> {
    return manager.findOneBy(AiConfigEntity, { id, userId: ownerId });
  }

  countOwnedBy(manager: EntityManager, userId: string): Promise<number> {
    return manager.count(AiConfigEntity, { where: { userId } });
  }

  async insert(manager: EntityManager, config: AiConfigEntity): Promise<void> {
    await manager.insert(AiConfigEntity, config);
  }

  /** Deactivates the user's active configs of `provider` other than `exceptId`; returns how many it deactivated (0 or 1). */
  async deactivateOthers(manager: EntityManager, userId: string, provider: string, exceptId: string, at: Date): Promise<number> {
    const result = await manager
      .createQueryBuilder()
      .update(AiConfigEntity)
      .set({ isActive: false, updatedAt: at })
      .where('user_id = :userId AND provider = :provider AND is_active AND id <> :exceptId', { userId, provider, exceptId })
      .execute();
    return result.affected ?? 0;
  }

  /** Changes the config if it still belongs to `ownerId`; false when it does not (a concurrent delete won). */
  async updateOwned(manager: EntityManager, id: string, ownerId: string, changes: Partial<AiConfigEntity>): Promise<boolean> {
    const result = await manager.update(AiConfigEntity, { id, userId: ownerId }, changes);
    return Boolean(result.affected);
  }

  /** Deletes the config if it still belongs to `ownerId`. */
  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    const result = await this.configs.delete({ id, userId: ownerId });
    return Boolean(result.affected);
  }

  /** One page of a user's configs (of one provider, when given), newest first, and how many they have. */
  listNewestFirst(ownerId: string, provider: string | undefined, page: { page: number; limit: number }): Promise<{ rows: AiConfigEntity[]; total: number }> {
    const query = this.configs.createQueryBuilder('c').where('c.user_id = :ownerId', { ownerId });
    if (provider !== undefined) query.andWhere('c.provider = :provider', { provider });
    return newestFirstPage(query, { createdAt: 'c.created_at', id: 'c.id' }, page);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.configs.manager.transaction(work);
  }
}
