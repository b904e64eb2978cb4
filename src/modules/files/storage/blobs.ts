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
 * 2. `store()` records the blob as held by nobody yet, then puts the bytes in
 *    the blob store (outside any transaction: an S3 upload may take a while,
 *    and storing a hash twice is harmless);
 * 3. in the transaction that writes the rows that point at it, `hold()` counts
 *    one more holder, locking the blob's row, and stores the bytes again if
 *    they vanished meanwhile (a sweep deleted them between 2 and 3);
 * 4. `discard()` removes the temporary file, committed or not, and deletes the
 *    stored bytes if nobody holds them (the transaction failed).
 *
 * Letting go is the mirror: `release()` in the transaction that deletes the
 * rows, then `collect()` after it commits deletes the bytes of blobs nobody
 * holds any more. A crash anywhere leaves at worst an orphaned row (bytes
 * stored, nobody holding them), which the `files.sweep` maintenance job
 * collects later.
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
    await this.rows.recordUnheld(staged.hash, staged.size);
    if (!(await this.storeOf.has(staged.hash))) await this.storeOf.put(staged.hash, staged.path, staged.size);
  }

  /** Step 3, in the caller's transaction: one more holder of the staged blob. */
  async hold(manager: EntityManager, staged: StagedBlob): Promise<void> {
    await this.rows.addHolder(manager, staged.hash, staged.size);
    // The row is locked now: no sweep can delete the bytes until this transaction ends.
    if (!(await this.storeOf.has(staged.hash))) await this.storeOf.put(staged.hash, staged.path, staged.size);
  }

  /**
   * In the caller's transaction: one more holder of each of `hold`, one fewer
   * of each of `release` (a hash may appear several times in each). Blob rows
   * are locked in one order, by hash, in every transaction that changes them,
   * so two that share contents never wait on each other in a circle. Returns
   * the released hashes, to collect() after commit.
   */
  async exchange(manager: EntityManager, changes: { hold?: StagedBlob[]; release?: string[] }): Promise<string[]> {
    const steps = [
      ...(changes.hold ?? []).map((staged) => ({ hash: staged.hash, staged })),
      ...(changes.release ?? []).map((hash) => ({ hash, staged: undefined })),
    ].sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : a.staged ? -1 : 1));
    for (const step of steps) {
      if (step.staged) await this.hold(manager, step.staged);
      else await this.release(manager, step.hash);
    }
    return changes.release ?? [];
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

  /** Step 4: the temporary file goes; so do the stored bytes, if the transaction that was to hold them did not commit. */
  async discard(staged: StagedBlob | undefined): Promise<void> {
    if (!staged) return;
    await this.staging.discard(staged);
    await this.collect([staged.hash]);
  }
}
