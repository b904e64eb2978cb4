import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** How many leading bytes are kept to tell a file's type (file-type reads at most this many). */
export const SNIFF_BYTES = 4100;

/** Contents received into a temporary file, with what was learnt on the way. */
export interface StagedBlob {
  path: string;
  hash: string;
  size: number;
  /** The first SNIFF_BYTES bytes (fewer for a shorter file). */
  head: Buffer;
  /** Whether the whole contents are well-formed UTF-8 without NUL (text, for the type check). */
  utf8: boolean;
}

/** Thrown when the source passes the byte limit; nothing of it is left on disk. */
export class StagedTooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`more than ${limitBytes} bytes`);
  }
}

/**
 * A directory of temporary files on the same file system as the local blob
 * store (so a finished one is linked into place, not copied). Contents stream
 * through a SHA-256 and a byte counter into a file of their own; at no point
 * is a whole file held in memory.
 */
export class Staging {
  constructor(readonly directory: string) {}

  async start(): Promise<void> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
  }

  /**
   * Streams `source` into a new temporary file. Past `limitBytes` (when given)
   * it stops reading, removes the file and rejects with StagedTooLarge; on any
   * other failure the file is removed too.
   */
  async receive(source: Readable, limitBytes?: number | null): Promise<StagedBlob> {
    const path = join(this.directory, `${randomUUID()}.part`);
    const digest = createHash('sha256');
    const headChunks: Buffer[] = [];
    let headBytes = 0;
    let size = 0;
    // Decoding stops at the first byte that is not UTF-8, so a binary file costs almost nothing here.
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let utf8 = true;
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (limitBytes != null && size > limitBytes) {
          done(new StagedTooLarge(limitBytes));
          return;
        }
        digest.update(chunk);
        if (utf8) {
          try {
            utf8 = !decoder.decode(chunk, { stream: true }).includes('\u0000');
          } catch {
            utf8 = false;
          }
        }
        if (headBytes < SNIFF_BYTES) {
          const piece = chunk.subarray(0, SNIFF_BYTES - headBytes);
          headChunks.push(Buffer.from(piece));
          headBytes += piece.length;
        }
        done(null, chunk);
      },
      flush(done) {
        try {
          decoder.decode();
        } catch {
          utf8 = false; // ends inside a multi-byte sequence
        }
        done();
      },
    });
    try {
      await pipeline(source, meter, createWriteStream(path, { mode: 0o600 }));
    } catch (error) {
      await unlink(path).catch(() => undefined);
      throw error;
    }
    return { path, hash: digest.digest('hex'), size, head: Buffer.concat(headChunks), utf8 };
  }

  /** Bytes already in memory (a project's text file, a re-encoded avatar). */
  receiveBuffer(bytes: Buffer): Promise<StagedBlob> {
    return this.receive(Readable.from([bytes]));
  }

  async discard(staged: StagedBlob | undefined): Promise<void> {
    if (staged) await unlink(staged.path).catch(() => undefined);
  }

  /** Removes temporary files older than `maxAgeMs` (left by a crash mid-upload). Returns how many. */
  async removeStale(maxAgeMs: number): Promise<number> {
    let removed = 0;
    const cutoff = Date.now() - maxAgeMs;
    for (const name of await readdir(this.directory).catch(() => [] as string[])) {
      const path = join(this.directory, name);
      const info = await stat(path).catch(() => undefined);
      if (info && info.mtimeMs < cutoff) {
        await unlink(path).catch(() => undefined);
        removed++;
      }
    }
    return removed;
  }
}
