import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * `storage_usage`: the bytes of each user's files, kept in the transactions
 * that add and remove them. The row is locked by the update, so two uploads
 * at the quota's edge are counted one after the other: one fits, one does not.
 */
@Injectable()
export class StorageUsageRepository {
  /** Adds `bytes` unless that would pass `limit` (null: no limit). False when it would. */
  async charge(manager: EntityManager, userId: string, bytes: number, limit: number | null): Promise<boolean> {
    if (limit !== null && bytes > limit) return false;
    const rows: unknown[] = await manager.query(
      `INSERT INTO storage_usage AS usage (user_id, used_bytes) VALUES ($1, $2)
       ON CONFLICT (user_id) DO UPDATE SET used_bytes = usage.used_bytes + EXCLUDED.used_bytes
       WHERE $3::bigint IS NULL OR usage.used_bytes + EXCLUDED.used_bytes <= $3::bigint
       RETURNING used_bytes`,
      [userId, bytes, limit],
    );
    return rows.length > 0;
  }

  async refund(manager: EntityManager, userId: string, bytes: number): Promise<void> {
    if (bytes === 0) return;
    await manager.query(`UPDATE storage_usage SET used_bytes = GREATEST(used_bytes - $2, 0) WHERE user_id = $1`, [userId, bytes]);
  }

  async usedBy(manager: EntityManager, userId: string): Promise<number> {
    const rows: { used_bytes: string }[] = await manager.query(`SELECT used_bytes FROM storage_usage WHERE user_id = $1`, [userId]);
    return rows.length ? Number(rows[0].used_bytes) : 0;
  }
}
