import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import type { Role } from '../../../common/auth/principal';
import { ApiKeyEntity } from '../entities/api-key.entity';
import { UserStatus } from '../entities/user.entity';

/** A key with what authentication needs of its user now. */
export interface ApiKeyAuthRow {
  id: string;
  user_id: string;
  scopes: string[];
  enabled: boolean;
  revoked_at: Date | null;
  expires_at: Date | null;
  username: string;
  role: Role;
  level: string;
  status: UserStatus;
}

/** What a new key row is made of; the rest comes from the column defaults. */
export type NewApiKeyRow = Pick<ApiKeyEntity, 'userId' | 'name' | 'scopes' | 'expiresAt' | 'keyHash' | 'displayPrefix' | 'aiTokenBudget' | 'aiModels'>;

/** Uses of one key since the last write. */
export interface KeyUsage {
  count: number;
  lastUsedAt: Date;
}

/**
 * The `api_keys` table. "Unrevoked" keys are the ones a user has (enabled or
 * not): revoked keys are those of deleted users, kept for the record.
 * Methods that take an `EntityManager` run inside the caller's transaction.
 */
@Injectable()
export class ApiKeyRepository {
  constructor(@InjectRepository(ApiKeyEntity) private readonly keys: Repository<ApiKeyEntity>) {}

  findById(id: string): Promise<ApiKeyEntity | null> {
    return this.keys.findOneBy({ id });
  }

  /** Read on every API-key request (through AuthStateCache): the key by its SHA-256, joined to its user. */
  async findForAuth(keyHash: string): Promise<ApiKeyAuthRow | undefined> {
    const rows = (await this.keys.query(
      `SELECT k.id, k.user_id, k.scopes, k.enabled, k.revoked_at, k.expires_at, u.username, u.role, u.level, u.status
         FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1`,
      [keyHash],
    )) as ApiKeyAuthRow[];
    return rows[0];
  }

  /** One page of the user's unrevoked keys, newest first, and how many there are. */
  async listUnrevokedKeys(userId: string, page: { page: number; limit: number }): Promise<{ rows: ApiKeyEntity[]; total: number }> {
    const [rows, total] = await this.keys.findAndCount({
      where: { userId, revokedAt: IsNull() },
      order: { createdAt: 'DESC' },
      skip: (page.page - 1) * page.limit,
      take: page.limit,
    });
    return { rows, total };
  }

  countUnrevokedKeys(userId: string, manager: EntityManager): Promise<number> {
    return manager.getRepository(ApiKeyEntity).count({ where: { userId, revokedAt: IsNull() } });
  }

  /** Reads and locks an unrevoked key (SELECT … FOR UPDATE) until the caller's transaction ends; null when there is none. */
  lockUnrevokedForUpdate(id: string, manager: EntityManager): Promise<ApiKeyEntity | null> {
    return manager.getRepository(ApiKeyEntity).findOne({ where: { id, revokedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
  }

  insert(row: NewApiKeyRow, manager: EntityManager): Promise<ApiKeyEntity> {
    const keys = manager.getRepository(ApiKeyEntity);
    return keys.save(keys.create(row));
  }

  /** Writes the changed columns of a loaded key. */
  save(key: ApiKeyEntity, manager: EntityManager): Promise<ApiKeyEntity> {
    return manager.getRepository(ApiKeyEntity).save(key);
  }

  /** Deletes the key if it still belongs to `ownerId`; false when it does not (a concurrent delete won). */
  async deleteOwned(id: string, ownerId: string): Promise<boolean> {
    const result = await this.keys.delete({ id, userId: ownerId });
    return Boolean(result.affected);
  }

  /** Revokes (and disables) every key of the user: a deleted account's keys stop working and stay on record. */
  async revokeAllKeys(userId: string, manager: EntityManager): Promise<void> {
    await manager.query('UPDATE api_keys SET revoked_at = now(), enabled = false WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
  }

  /**
   * Adds the uses counted in memory to each key in one UPDATE, whatever the
   * number of keys. A key's last use only moves forward, so batches written
   * out of order by two replicas cannot set it back.
   */
  async addUsage(uses: ReadonlyMap<string, KeyUsage>): Promise<void> {
    const ids = [...uses.keys()];
    await this.keys.query(
      `UPDATE api_keys k SET usage_count = k.usage_count + u.count,
              last_used_at = GREATEST(COALESCE(k.last_used_at, u.last_used_at), u.last_used_at)
         FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS u(id, count, last_used_at)
        WHERE k.id = u.id`,
      [ids, ids.map((id) => uses.get(id)!.count), ids.map((id) => uses.get(id)!.lastUsedAt)],
    );
  }
}
