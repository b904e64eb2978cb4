import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { pgPool } from '../../common/database/pg-pool';
import { AppLogger } from '../../common/logging/app-logger';
import { acceptableEntry } from './acceptable-entry';
import { COPY_SQL, copyStream } from './audit-copy';
import { AuditEntry } from './audit-entry';

const BATCH_SIZE = 5000;
const WRITE_CONCURRENCY = 2;

/** A queued entry, with the callback of the response waiting for it to be written (durable mode). */
type Queued = AuditEntry & { settle?: () => void };

/**
 * PostgreSQL refused the rows themselves (SQLSTATE class 22 data exception,
 * 23 integrity violation, 54 program limit), or the encoder could not encode
 * them: the same batch would fail again, so the offending entry is isolated.
 * Anything else (connection refused or lost, server shutting down) is an outage
 * and the batch waits for the next try.
 */
function isRefusedData(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return error instanceof EncodeError || (typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code));
}

class EncodeError extends Error {}

/**
 * Audit entries are written with COPY in batches, and no entry can stop the
 * trail: each is made acceptable before it is queued (acceptable-entry.ts), and
 * if PostgreSQL still refuses a batch it is halved until the offending entry is
 * alone; the rest is written and the offender goes to the dead letter (counted
 * and logged), never back to the queue.
 *
 * Two ways to wait (AUDIT_DURABILITY):
 * - `sync` (default): `recordDurably` resolves once the entry is committed, and
 *   the response waits for it. Group commit: a batch starts as soon as the
 *   previous one has committed and takes everything that arrived meanwhile, so
 *   an idle server pays one COPY round trip and a busy one writes large batches.
 *   A response waits at most AUDIT_SYNC_TIMEOUT_MS (the database is down); its
 *   entry stays queued.
 * - `async`: `record` only queues; batches are written every
 *   AUDIT_FLUSH_INTERVAL_MS, or at once when one is full. A crash loses what
 *   was queued.
 * While the database is down entries wait (up to AUDIT_BUFFER_SIZE) and are
 * written when it is back; entries beyond that are dropped, counted and logged.
 * Everything queued is flushed on shutdown.
 */
@Injectable()
export class AuditWriter implements OnModuleInit, BeforeApplicationShutdown {
  private buffer: Queued[] = [];
  private flushing?: Promise<void>;
  private flushScheduled = false;
  /** After a failed write (an outage), the next try waits for the timer instead of every new entry starting one. */
  private retryAt = 0;
  private timer?: NodeJS.Timeout;
  private droppedSinceLog = 0;
  dropped = 0;
  deadLettered = 0;
  written = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.config.audit.flushIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Queues an entry; it is written with the next batch. */
  record(entry: AuditEntry): void {
    this.enqueue(acceptableEntry(entry));
  }

  /**
   * Queues an entry and resolves once it is committed (or dead-lettered, or
   * dropped because the buffer is full, or after AUDIT_SYNC_TIMEOUT_MS).
   * Never rejects.
   */
  recordDurably(entry: AuditEntry): Promise<void> {
    return new Promise<void>((resolve) => {
      const queued: Queued = acceptableEntry(entry);
      const timer = setTimeout(() => {
        queued.settle = undefined;
        resolve();
      }, this.config.audit.syncTimeoutMs);
      queued.settle = () => {
        clearTimeout(timer);
        resolve();
      };
      if (!this.enqueue(queued)) queued.settle();
      else this.scheduleFlush();
    });
  }

  private enqueue(entry: Queued): boolean {
    if (this.buffer.length >= this.config.audit.bufferSize) {
      this.dropped++;
      this.droppedSinceLog++;
      return false;
    }
    this.buffer.push(entry);
    if (this.buffer.length >= BATCH_SIZE) this.scheduleFlush();
    return true;
  }

  /**
   * Starts a flush after the current turn of the event loop (so entries of one
   * burst share a batch), unless one is running: a running flush takes what
   * arrived meanwhile as soon as its batch has committed.
   */
  private scheduleFlush(): void {
    if (this.flushing || this.flushScheduled || Date.now() < this.retryAt) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    });
  }

  /** Writes everything buffered; concurrent callers share one flush. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.buffer.length === 0) return;
    this.flushing = this.writeAll().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  private async writeAll(): Promise<void> {
    if (this.droppedSinceLog > 0) {
      this.logger.pino.error({ dropped: this.droppedSinceLog, total_dropped: this.dropped }, 'audit buffer full: entries dropped');
      this.droppedSinceLog = 0;
    }
    while (this.buffer.length > 0) {
      // Two COPYs at once: one stream is bound by a single PostgreSQL backend's
      // CPU, two nearly double the rate. Order between batches does not matter.
      const batches: Queued[][] = [];
      while (batches.length < WRITE_CONCURRENCY && this.buffer.length > 0) batches.push(this.buffer.splice(0, BATCH_SIZE));
      const unwritten = (await Promise.all(batches.map((batch) => this.writeBatch(batch)))).flat();
      if (unwritten.length > 0) {
        this.buffer.unshift(...unwritten);
        this.retryAt = Date.now() + this.config.audit.flushIntervalMs;
        return;
      }
    }
  }

  /**
   * Writes a batch; returns the entries that could not be written because the
   * database is unavailable (to be tried again). Entries PostgreSQL refuses are
   * isolated by halving the batch and dead-lettered.
   */
  private async writeBatch(batch: Queued[]): Promise<Queued[]> {
    try {
      await this.copy(batch);
    } catch (error) {
      if (!isRefusedData(error)) {
        this.logger.pino.warn({ err: error, pending: this.buffer.length + batch.length }, 'audit write failed; entries kept for the next try');
        return batch;
      }
      if (batch.length === 1) {
        this.deadLetter(batch[0], error);
        return [];
      }
      const half = batch.length >> 1;
      const [first, second] = await Promise.all([this.writeBatch(batch.slice(0, half)), this.writeBatch(batch.slice(half))]);
      return [...first, ...second];
    }
    this.written += batch.length;
    for (const entry of batch) entry.settle?.();
    return [];
  }

  private deadLetter(entry: Queued, error: unknown): void {
    this.deadLettered++;
    const { settle, ...row } = entry;
    this.logger.pino.error({ err: error, entry: row, total_dead_lettered: this.deadLettered }, 'audit entry refused by the database; dead-lettered');
    settle?.();
  }

  /**
   * One COPY of the given entries. The audit context's only write, and the one
   * statement kept out of AuditLogRepository: it is a binary stream on a raw
   * pg connection (not TypeORM), its SQL comes from audit-copy.ts with the
   * encoder it must match column for column, and how it fails (encoding,
   * refused data, outage) is this writer's business.
   */
  async copy(entries: AuditEntry[]): Promise<void> {
    const client: PoolClient = await pgPool(this.dataSource).connect();
    try {
      await pipeline(Readable.from(encoded(entries)), client.query(copyFrom(COPY_SQL)));
      client.release();
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
  }
}

/** The COPY stream of `entries`; an error while encoding is marked as the entries' fault. */
function* encoded(entries: AuditEntry[]): Generator<Buffer> {
  try {
    yield* copyStream(entries);
  } catch (error) {
    throw new EncodeError(`audit entry could not be encoded: ${String(error)}`);
  }
}
