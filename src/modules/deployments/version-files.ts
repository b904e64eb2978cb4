import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import type { EntityManager } from 'typeorm';
import { Blobs } from '../files/storage/blobs';
import type { StagedBlob } from '../files/storage/staging';
import { AppFile, readFiles, writeFiles } from './app-files';

/** One file of a version as its row keeps it: where, how big, and its contents' SHA-256 in the blob store. */
export interface ManifestEntry {
  path: string;
  size: number;
  /** Absent for a version stored before its files went to the blob store (they are only on disk). */
  hash?: string;
}

/** A version's files staged and stored, for its transaction to hold. */
export interface StagedFiles {
  manifest: ManifestEntry[];
  blobs: StagedBlob[];
}

/**
 * A version's files in the files context's blob store (local disk or S3), as
 * every file of the platform: contents stored once by hash, held by each
 * version that has them, let go when the deployment is deleted. The copy
 * under DATA_DIR/deployments is where the app runs (and may write): it is
 * written from the blob store whenever it is missing (a new disk, a replica
 * that never ran the app), and a new version is made from the stored files,
 * never from what a running app changed in its directory.
 */
@Injectable()
export class VersionFiles {
  constructor(private readonly blobs: Blobs) {}

  /** Stages and stores each file (outside any transaction); on failure nothing is left staged. */
  async stage(files: AppFile[]): Promise<StagedFiles> {
    const staged: StagedFiles = { manifest: [], blobs: [] };
    try {
      for (const file of files) {
        const blob = await this.blobs.staging.receiveBuffer(Buffer.from(file.content, 'utf8'));
        staged.blobs.push(blob);
        await this.blobs.store(blob);
        staged.manifest.push({ path: file.path, size: blob.size, hash: blob.hash });
      }
    } catch (error) {
      await this.discard(staged);
      throw error;
    }
    return staged;
  }

  /** In the transaction that writes the version's row: the version holds its files. */
  async hold(manager: EntityManager, staged: StagedFiles): Promise<void> {
    await this.blobs.exchange(manager, { hold: staged.blobs });
  }

  /** After that transaction, committed or not: the temporary files go (and the stored bytes, if nothing holds them). */
  async discard(staged: StagedFiles): Promise<void> {
    for (const blob of staged.blobs) await this.blobs.discard(blob);
  }

  /** In the transaction that deletes the versions: they let go of their files. The hashes to collect() after it commits. */
  release(manager: EntityManager, manifests: ManifestEntry[][]): Promise<string[]> {
    const hashes = manifests.flat().flatMap((entry) => (entry.hash ? [entry.hash] : []));
    return this.blobs.exchange(manager, { release: hashes });
  }

  /** After the deleting transaction committed: the bytes nobody holds any more go. */
  collect(hashes: string[]): Promise<void> {
    return this.blobs.collect(hashes);
  }

  /** A version's files as they were given (from the blob store; from `dir` for a version older than that). */
  async read(manifest: ManifestEntry[], dir: string): Promise<AppFile[]> {
    if (!manifest.every((entry) => entry.hash)) return readFiles(dir, manifest);
    const files: AppFile[] = [];
    for (const entry of manifest) files.push({ path: entry.path, content: (await bytesOf(await this.blobs.read(entry.hash!))).toString('utf8') });
    return files;
  }

  /** Writes a version's files into `dir` from the blob store; false when the version has none there. */
  async materialize(manifest: ManifestEntry[], dir: string): Promise<boolean> {
    if (!manifest.every((entry) => entry.hash)) return false;
    writeFiles(dir, await this.read(manifest, dir));
    return true;
  }
}

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
