import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { EntityManager } from 'typeorm';
import { AppLogger } from '../../../common/logging/app-logger';
import { BlobRepository } from '../repositories/blob.repository';
import { BLOB_STORE, BlobStore, ByteRange } from './blob-store';
import { Staging, StagedBlob } from './staging';

/**
 * The one way contents enter and leave storage, for files, projects and
 * avatars alike:
 *
 * 1. `staging.receive()` streams the bytes into a temporary file (hash, size);
 * 2. `store()` puts them in the blob store (outside any transaction: an S3
 *    upload may take a while, and storing a hash twice is harmless);
 * 3. in the transaction that writes the rows that point at it, `hold()` counts
 *    one more holder, locking the blob's row, and stores the bytes again if
 *    they vanished meanwhile (a sweep deleted them between 2 and 3);
 * 4. `discard()` removes the temporary file, committed or not.
 *
 * Letting go is the mirror: `release()` in the transaction that deletes the
 * rows, then `collect()` after it commits deletes the bytes of blobs nobody
 * holds any more. A crash between the two leaves an orphaned row, which the
 * `files.sweep` maintenance job collects later.
 */
@Injectable()
export class Blobs implements OnModuleInit {
  constructor(
    @Inject(BLOB_STORE) private readonly storeOf: BlobStore,
    readonly staging: Staging,
    private readonly rows: BlobRepository,
    private readonly logger: AppLogger,
  ) {}

  async onModuleInit(): Promise<void> {
    await Promise.all([this.storeOf.start(), this.staging.start()]);
  }

  get kind(): BlobStore['kind'] {
    return this.storeOf.kind;
  }

  /** Step 2: the staged bytes into the blob store. */
  async store(staged: StagedBlob): Promise<void> {
    if (!(await this.storeOf.has(staged.hash))) await this.storeOf.put(staged.hash, staged.path, staged.size);
  }

  /** Step 3, in the caller's transaction: one more holder of the staged blob. */
  async hold(manager: EntityManager, staged: StagedBlob): Promise<void> {
    await this.rows.addHolder(manager, staged.hash, staged.size);
    // The row is locked now: no sweep can delete the bytes until this transaction ends.
    if (!(await this.storeOf.has(staged.hash))) await this.storeOf.put(staged.hash, staged.path, staged.size);
  }

  /** In the caller's transaction: one holder fewer. Call collect() with the hash after commit. */
  release(manager: EntityManager, hash: string): Promise<void> {
    return this.rows.removeHolder(manager, hash);
  }

  /** After a commit that released `hashes`: deletes the bytes of those nobody holds. Never throws. */
  async collect(hashes: Iterable<string>): Promise<void> {
    for (const hash of new Set(hashes)) {
      try {
        await this.rows.transaction(async (manager) => {
          if (!(await this.rows.lockOrphan(manager, hash))) return;
          await this.storeOf.delete(hash);
          await this.rows.deleteRow(manager, hash);
        });
      } catch (error) {
        // The row stays orphaned; the sweep tries again.
        this.logger.warn(`could not delete blob ${hash}: ${(error as Error).message}`, 'Blobs');
      }
    }
  }

  /** Blobs left orphaned by a crash, and temporary files left by one. */
  async sweep(orphanedBefore: Date, stagedBeforeMs: number): Promise<{ blobs: number; staged: number }> {
    const orphans = await this.rows.orphansBefore(orphanedBefore, 1000);
    await this.collect(orphans);
    return { blobs: orphans.length, staged: await this.staging.removeStale(stagedBeforeMs) };
  }

  read(hash: string, range?: ByteRange): Promise<Readable> {
    return this.storeOf.read(hash, range);
  }

  discard(staged: StagedBlob | undefined): Promise<void> {
    return this.staging.discard(staged);
  }
}
