import { createReadStream } from 'node:fs';
import { access, copyFile, link, mkdir, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { BLOB_HASH, BlobStore, ByteRange } from './blob-store';

/**
 * Blobs as files under `root`/<aa>/<bb>/<hash> (two levels of fan-out keep
 * directories small). A blob appears whole or not at all: it is linked (or
 * copied, then renamed) into place, never written there piece by piece.
 */
export class LocalBlobStore implements BlobStore {
  readonly kind = 'local' as const;

  constructor(private readonly root: string) {}

  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
  }

  pathOf(hash: string): string {
    if (!BLOB_HASH.test(hash)) throw new Error(`not a blob hash: ${hash}`);
    return join(this.root, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  async put(hash: string, sourcePath: string): Promise<void> {
    const target = this.pathOf(hash);
    await mkdir(dirname(target), { recursive: true, mode: 0o700 });
    try {
      // A hard link when the staging directory is on the same file system: no copy at all.
      await link(sourcePath, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return;
      if (code !== 'EXDEV' && code !== 'EPERM') throw error;
      const partial = `${target}.${process.pid}.${Date.now()}.partial`;
      await copyFile(sourcePath, partial);
      await rename(partial, target);
    }
  }

  async has(hash: string): Promise<boolean> {
    try {
      await access(this.pathOf(hash));
      return true;
    } catch {
      return false;
    }
  }

  async read(hash: string, range?: ByteRange): Promise<Readable> {
    const stream = createReadStream(this.pathOf(hash), range ? { start: range.start, end: range.end } : {});
    // Open before answering, so a missing blob rejects here rather than mid-response.
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return stream;
  }

  async delete(hash: string): Promise<void> {
    try {
      await unlink(this.pathOf(hash));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
