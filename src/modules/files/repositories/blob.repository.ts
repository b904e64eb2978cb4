import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/**
 * The `blobs` table: which contents exist and how many rows (files, avatars)
 * hold each. A row is locked by whoever changes its count, and by the sweep
 * while it deletes the bytes, so the two never cross.
 */
@Injectable()
export class BlobRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Before the bytes go into the store: a row nobody holds yet, orphaned as
   * of now, so that bytes whose transaction then fails (or whose process
   * dies) are found and deleted by the sweep. An existing orphan's clock is
   * reset, so the sweep does not take it from under this upload.
   */
  async recordUnheld(hash: string, size: number): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO blobs (hash, size, ref_count, orphaned_at) VALUES ($1, $2, 0, now())
       ON CONFLICT (hash) DO UPDATE SET orphaned_at = now() WHERE blobs.ref_count = 0`,
      [hash, size],
    );
  }

  /** One more holder of `hash` (the row is created at 1). Locks the row until the transaction ends. */
  async addHolder(manager: EntityManager, hash: string, size: number): Promise<void> {
    await manager.query(
      `INSERT INTO blobs (hash, size, ref_count) VALUES ($1, $2, 1)
       ON CONFLICT (hash) DO UPDATE SET ref_count = blobs.ref_count + 1, orphaned_at = NULL`,
      [hash, size],
    );
  }

  /** One holder fewer; a blob nobody holds is marked orphaned (the caller then collects it). */
  async removeHolder(manager: EntityManager, hash: string): Promise<void> {
    await manager.query(
      `UPDATE blobs SET ref_count = ref_count - 1,
              orphaned_at = CASE WHEN ref_count = 1 THEN now() ELSE NULL END
       WHERE hash = $1`,
      [hash],
    );
  }

  /**
   * In a transaction of the caller's: locks the row of `hash` if nobody holds
   * it (SKIP LOCKED: a blob being adopted right now is left alone). True when
   * the caller may delete the bytes and then the row.
   */
  async lockOrphan(manager: EntityManager, hash: string): Promise<boolean> {
    const rows: unknown[] = await manager.query(`SELECT 1 FROM blobs WHERE hash = $1 AND ref_count = 0 FOR UPDATE SKIP LOCKED`, [hash]);
    return rows.length > 0;
  }

  async deleteRow(manager: EntityManager, hash: string): Promise<void> {
    await manager.query(`DELETE FROM blobs WHERE hash = $1 AND ref_count = 0`, [hash]);
  }

  /** Blobs nobody has held since before `before` (a crash between a delete and its collection leaves these). */
  async orphansBefore(before: Date, limit: number): Promise<string[]> {
    const rows: { hash: string }[] = await this.dataSource.query(
      `SELECT hash FROM blobs WHERE ref_count = 0 AND orphaned_at < $1 ORDER BY orphaned_at LIMIT $2`,
      [before, limit],
    );
    return rows.map((row) => row.hash);
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
