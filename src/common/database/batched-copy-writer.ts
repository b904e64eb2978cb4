import { BeforeApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { AppLogger } from '../logging/app-logger';
import { CopyRowFormat, copyStream } from './copy-encoding';
import { pgPool } from './pg-pool';

export interface BatchedCopyWriterOptions<T> {
  /** What the log lines call these rows: `audit` gives "audit buffer full", "audit entry refused …". */
  label: string;
  /** The `COPY … FROM STDIN WITH (FORMAT binary)` statement (copyFromStdinSql). */
  sql: string;
  /** Encodes one row for that statement, column for column. */
  format: CopyRowFormat<T>;
  /** Rows held in memory at most (while the database is down); beyond it they are dropped and counted. */
  bufferSize: number;
  /**
   * Optionally also a bound on the memory the queued rows take, for rows whose
   * size varies a lot (log lines up to 16 kB): `rowBytes` estimates one row.
   */
  bufferBytes?: number;
  rowBytes?: (row: T) => number;
  /** How often queued rows are written (and retried after a failed write). */
  flushIntervalMs: number;
  /** Rows per COPY (default 5000). */
  batchSize?: number;
  /** COPYs at once (default 2). More than one may commit batches out of order. */
  writeConcurrency?: number;
}

/** A queued row, with the callback of whoever waits for it to be written (durable mode). */
interface Queued<T> {
  row: T;
  bytes: number;
  settle?: () => void;
}

class EncodeError extends Error {}

/**
 * PostgreSQL refused the rows themselves (SQLSTATE class 22 data exception,
 * 23 integrity violation, 54 program limit), or the encoder could not encode
 * them: the same batch would fail again, so the offending row is isolated.
 * Anything else (connection refused or lost, server shutting down) is an outage
 * and the batch waits for the next try.
 */
function isRefusedData(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return error instanceof EncodeError || (typeof code === 'string' && /^(22|23|54)[0-9A-Z]{3}$/.test(code));
}

/**
 * Rows written with binary COPY in batches, from a bounded queue in memory; the
 * base of AuditWriter and DeploymentLogWriter, which decide what a row is and
 * when it is queued.
 *
 * - `enqueue` only queues; batches are written every `flushIntervalMs`, or at
 *   once when one is full. A crash loses what was queued.
 * - `enqueueDurably` resolves once the row is committed. Group commit: a batch
 *   starts as soon as the previous one has committed and takes everything that
 *   arrived meanwhile, so an idle server pays one COPY round trip and a busy
 *   one writes large batches. It waits at most `timeoutMs` (the database is
 *   down); the row stays queued.
 *
 * No row can stop the writer: if PostgreSQL refuses a batch it is halved until
 * the offending row is alone; the rest is written and the offender goes to the
 * dead letter (counted and logged), never back to the queue. While the
 * database is down rows wait (up to `bufferSize`, and `bufferBytes`) and are
 * written when it is back; rows beyond that are dropped, counted and logged.
 * Everything queued is flushed on shutdown.
 */
export class BatchedCopyWriter<T> implements OnModuleInit, BeforeApplicationShutdown {
  private buffer: Array<Queued<T>> = [];
  private bufferedBytes = 0;
  private flushing?: Promise<void>;
  private flushScheduled = false;
  /** After a failed write (an outage), the next try waits for the timer instead of every new row starting one. */
  private retryAt = 0;
  private timer?: NodeJS.Timeout;
  private droppedSinceLog = 0;
  private readonly batchSize: number;
  private readonly writeConcurrency: number;
  dropped = 0;
  deadLettered = 0;
  written = 0;

  constructor(
    protected readonly dataSource: DataSource,
    protected readonly logger: AppLogger,
    private readonly options: BatchedCopyWriterOptions<T>,
  ) {
    this.batchSize = options.batchSize ?? 5000;
    this.writeConcurrency = options.writeConcurrency ?? 2;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), this.options.flushIntervalMs);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Rows queued, not yet written. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Queues a row; false when the queue is full and the row was dropped (and counted). */
  protected enqueue(row: T): boolean {
    return this.push({ row, bytes: this.options.rowBytes?.(row) ?? 0 });
  }

  /**
   * Queues a row and resolves once it is committed (or dead-lettered, or
   * dropped because the queue is full, or after `timeoutMs`). Never rejects.
   */
  protected enqueueDurably(row: T, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const queued: Queued<T> = { row, bytes: this.options.rowBytes?.(row) ?? 0 };
      const timer = setTimeout(() => {
        queued.settle = undefined;
        resolve();
      }, timeoutMs);
      queued.settle = () => {
        clearTimeout(timer);
        resolve();
      };
      if (!this.push(queued)) queued.settle();
      else this.scheduleFlush();
    });
  }

  private push(queued: Queued<T>): boolean {
    const { bufferBytes } = this.options;
    if (this.buffer.length >= this.options.bufferSize || (bufferBytes !== undefined && this.bufferedBytes + queued.bytes > bufferBytes)) {
      this.dropped++;
      this.droppedSinceLog++;
      return false;
    }
    this.buffer.push(queued);
    this.bufferedBytes += queued.bytes;
    if (this.buffer.length >= this.batchSize) this.scheduleFlush();
    return true;
  }

  /**
   * Starts a flush after the current turn of the event loop (so rows of one
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

  /** Writes everything queued; concurrent callers share one flush. */
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
      this.logger.pino.error({ dropped: this.droppedSinceLog, total_dropped: this.dropped }, `${this.options.label} buffer full: entries dropped`);
      this.droppedSinceLog = 0;
    }
    while (this.buffer.length > 0) {
      // Two COPYs at once (by default): one stream is bound by a single
      // PostgreSQL backend's CPU, two nearly double the rate.
      const batches: Array<Array<Queued<T>>> = [];
      while (batches.length < this.writeConcurrency && this.buffer.length > 0) batches.push(this.take(this.batchSize));
      const unwritten = (await Promise.all(batches.map((batch) => this.writeBatch(batch)))).flat();
      if (unwritten.length > 0) {
        this.buffer.unshift(...unwritten);
        for (const queued of unwritten) this.bufferedBytes += queued.bytes;
        this.retryAt = Date.now() + this.options.flushIntervalMs;
        return;
      }
    }
  }

  private take(count: number): Array<Queued<T>> {
    const batch = this.buffer.splice(0, count);
    for (const queued of batch) this.bufferedBytes -= queued.bytes;
    return batch;
  }

  /**
   * Writes a batch; returns the rows that could not be written because the
   * database is unavailable (to be tried again). Rows PostgreSQL refuses are
   * isolated by halving the batch and dead-lettered.
   */
  private async writeBatch(batch: Array<Queued<T>>): Promise<Array<Queued<T>>> {
    try {
      await this.copy(batch.map((queued) => queued.row));
    } catch (error) {
      if (!isRefusedData(error)) {
        this.logger.pino.warn({ err: error, pending: this.buffer.length + batch.length }, `${this.options.label} write failed; entries kept for the next try`);
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
    for (const queued of batch) queued.settle?.();
    return [];
  }

  private deadLetter(queued: Queued<T>, error: unknown): void {
    this.deadLettered++;
    this.logger.pino.error(
      { err: error, entry: queued.row, total_dead_lettered: this.deadLettered },
      `${this.options.label} entry refused by the database; dead-lettered`,
    );
    queued.settle?.();
  }

  /**
   * One COPY of the given rows: the writer's only statement, kept out of the
   * repositories because it is a binary stream on a raw pg connection (not
   * TypeORM), its SQL goes with the encoder it must match column for column,
   * and how it fails (encoding, refused data, outage) is this writer's
   * business.
   */
  async copy(rows: T[]): Promise<void> {
    const client: PoolClient = await pgPool(this.dataSource).connect();
    try {
      await pipeline(Readable.from(this.encoded(rows)), client.query(copyFrom(this.options.sql)));
      client.release();
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
  }

  /** The COPY stream of `rows`; an error while encoding is marked as the rows' fault. */
  private *encoded(rows: T[]): Generator<Buffer> {
    try {
      yield* copyStream(rows, this.options.format);
    } catch (error) {
      throw new EncodeError(`${this.options.label} entry could not be encoded: ${String(error)}`);
    }
  }
}
