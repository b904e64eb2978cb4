import type { Readable } from 'node:stream';

/** Bytes `start` to `end` of a blob, both included (as in an HTTP Range). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where blob contents live, by their SHA-256 (lowercase hex). Which blobs
 * exist, and who holds them, is the database's business (`blobs` table, see
 * Blobs); a store only keeps bytes. Every operation is idempotent, so a retry
 * after a crash or a race is harmless: storing a hash twice stores it once,
 * deleting a missing blob succeeds.
 */
export interface BlobStore {
  /** `local` (a directory) or `s3` (a bucket), for logs and /health. */
  readonly kind: 'local' | 's3';
  /** Prepares the store (creates the directory, checks the bucket). */
  start(): Promise<void>;
  /**
   * Stores the contents of `sourcePath` (a finished file on local disk whose
   * SHA-256 is `hash` and length `size`) under `hash`. The source file is left
   * in place; the caller removes it.
   */
  put(hash: string, sourcePath: string, size: number): Promise<void>;
  /** Whether a blob is stored under `hash`. */
  has(hash: string): Promise<boolean>;
  /** The blob's bytes, or one range of them, as a stream. Rejects when it is missing. */
  read(hash: string, range?: ByteRange): Promise<Readable>;
  /** Removes the blob; no error when it is not there. */
  delete(hash: string): Promise<void>;
}

/** Injection token for the configured BlobStore (FILES_STORAGE). */
export const BLOB_STORE = Symbol('BLOB_STORE');

/** A blob hash as stored: 64 lowercase hex digits. */
export const BLOB_HASH = /^[0-9a-f]{64}$/;
