import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

/** An avatar as GET /avatars/:filename needs it. */
export interface StoredAvatar {
  blobHash: string;
  size: number;
  mimeType: string;
}

export interface NewAvatar {
  userId: string;
  filename: string;
  blobHash: string;
  mimeType: string;
}

/**
 * The `avatars` table: one row per user who has an avatar, pointing at the
 * blob of its re-encoded image. Methods that take an `EntityManager` run in the
 * caller's transaction, the one that also holds and releases the blobs.
 */
@Injectable()
export class AvatarRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** The blob of the user's current avatar, its row locked until the transaction ends; null when there is none. */
  async lockBlobOf(manager: EntityManager, userId: string): Promise<string | null> {
    const rows: { blob_hash: string }[] = await manager.query(`SELECT blob_hash FROM avatars WHERE user_id = $1 FOR UPDATE`, [userId]);
    return rows[0]?.blob_hash ?? null;
  }

  /** The user's avatar becomes `avatar` (a new row, or the old one replaced). */
  async upsert(manager: EntityManager, avatar: NewAvatar): Promise<void> {
    await manager.query(
      `INSERT INTO avatars (user_id, filename, blob_hash, mime_type) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id) DO UPDATE
         SET filename = EXCLUDED.filename, blob_hash = EXCLUDED.blob_hash, mime_type = EXCLUDED.mime_type, created_at = now()`,
      [avatar.userId, avatar.filename, avatar.blobHash, avatar.mimeType],
    );
  }

  /** Deletes the user's avatar and returns what it pointed at; null when there was none. */
  async delete(manager: EntityManager, userId: string): Promise<{ blobHash: string; size: number } | null> {
    const [rows]: [{ blob_hash: string; size: string }[], number] = await manager.query(
      `DELETE FROM avatars a USING blobs b WHERE a.user_id = $1 AND b.hash = a.blob_hash RETURNING a.blob_hash, b.size`,
      [userId],
    );
    const row = rows[0];
    return row ? { blobHash: row.blob_hash, size: Number(row.size) } : null;
  }

  async findByFilename(filename: string): Promise<StoredAvatar | null> {
    const rows: { blob_hash: string; size: string; mime_type: string }[] = await this.dataSource.query(
      `SELECT a.blob_hash, b.size, a.mime_type FROM avatars a JOIN blobs b ON b.hash = a.blob_hash WHERE a.filename = $1`,
      [filename],
    );
    const row = rows[0];
    return row ? { blobHash: row.blob_hash, size: Number(row.size), mimeType: row.mime_type } : null;
  }
}
