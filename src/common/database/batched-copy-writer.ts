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
  /** Rows held in memory at most, queued or being written (while the database is down or slow); beyond it they are dropped and counted. */
  bufferSize: number;
  /**
   * Optionally also a bound on the memory the queued rows take, for rows whose
   * size varies a lot (log lines up to 16 kB): `rowBytes` estimates one row.
   */
  bufferBytes?: number;
  rowBytes?: (row: T) => number;
  /** How often queued rows are written (and retried after a failed write). */
  flushIntervalMs: number;
  /** Rows per COPY at most (default 5000). */
  batchSize?: number;
  /**
   * COPYs at once (default 2): one COPY is bound by a single PostgreSQL
   * backend, and while one commits the next can already stream. A second one
   * starts only when a whole batch waits; below that the running COPY takes
   * what arrived meanwhile once it is done (group commit).
   */
  writeConcurrency?: number;
  /**
   * Optionally, the order rows must keep (deployment_logs: a line's time, in ms,
   * never decreasing along the queue). Rows of concurrent COPYs get their
   * serial numbers interleaved, so rows of equal key are never in two COPYs
   * at once: a batch ends where the key changes when it can, and a batch
   * starts beside the running ones only if its first row's key is greater
   * than every row being written. Without it concurrent batches may commit
   * in any order.
   */
  orderKey?: (row: T) => number;
}

/** A batch being written. */
interface Slot {
  firstN: number;
  lastKey: number;
}

/** A queued row, with the callback of whoever waits for it to be written (durable mode). */
interface Queued<T> {
  row: T;
  bytes: number;
  /** Its place in the queue: a batch given back after an outage goes back to its place. */
  n: number;
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
 * - Up to `writeConcurrency` COPYs at once: a second one starts beside the
 *   first when a whole batch waits (a flood), keeping `orderKey` if given.
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
  /** Rows and bytes held: queued and being written (both count against bufferSize and bufferBytes). */
  private heldRows = 0;
  private bufferedBytes = 0;
  private enqueued = 0;
  /** The batches being written: the place of each one's first row, and the order key of its last (-Infinity without orderKey). */
  private readonly writing = new Set<Slot>();
  /** Flushes waiting for a batch to end. */
  private waiters: Array<() => void> = [];
  /** Failed writes so far: a flush stops at one (the rows wait for the next try). */
  private failures = 0;
  private flushScheduled = false;
  /** After a failed write (an outage), the next try waits for the timer instead of every new row starting one. */
  private retryAt = 0;
  /** When a batch last finished (performance.now()): a write that takes far longer than that is stalled. */
  private lastProgress = performance.now();
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
    // Rows queued while it flushes (a line logged as things stop) are written too, unless the database is down.
    let failures: number;
    do {
      failures = this.failures;
      await this.flush();
    } while (this.buffer.length > 0 && this.failures === failures);
  }

  /** Rows queued or being written, not yet written. */
  get pending(): number {
    return this.heldRows;
  }

  /** Queues a row; false when the queue is full and the row was dropped (and counted). */
  protected enqueue(row: T): boolean {
    return this.push({ row, bytes: this.options.rowBytes?.(row) ?? 0, n: 0 });
  }

  /** Whether a row of `bytes` would be queued now (for a subclass that would rather not try, and so not count a drop). */
  protected hasRoom(bytes = 0): boolean {
    const { bufferBytes } = this.options;
    return this.heldRows < this.options.bufferSize && (bufferBytes === undefined || this.bufferedBytes + bytes <= bufferBytes);
  }

  /**
   * Queues a row and resolves once it is committed (or dead-lettered, or
   * dropped because the queue is full, or after `timeoutMs`). Never rejects.
   */
  protected enqueueDurably(row: T, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const queued: Queued<T> = { row, bytes: this.options.rowBytes?.(row) ?? 0, n: 0 };
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
    if (!this.hasRoom(queued.bytes)) {
      this.dropped++;
      this.droppedSinceLog++;
      return false;
    }
    queued.n = this.enqueued++;
    this.buffer.push(queued);
    this.heldRows++;
    this.bufferedBytes += queued.bytes;
    if (this.buffer.length >= this.batchSize) this.scheduleFlush();
    return true;
  }

  /**
   * Starts writing after the current turn of the event loop (so rows of one
   * burst share a batch), unless a write is running: a running write takes
   * what arrived meanwhile as soon as its batch has committed, and a second
   * one starts at once when a whole batch waits.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || Date.now() < this.retryAt) return;
    if (this.writing.size > 0 && (this.writing.size >= this.writeConcurrency || this.buffer.length < this.batchSize)) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.pump();
    });
  }

  /**
   * Writes the rows queued before the call (not those a flood adds meanwhile,
   * or it could wait for as long as the flood lasts); stops at a failed write
   * (an outage: the rows stay queued for the next try).
   */
  async flush(): Promise<void> {
    this.logDropped();
    const failures = this.failures;
    const target = this.enqueued;
    for (;;) {
      // The timer and shutdown retry at once, even within the wait after a failure.
      if (this.failures === failures) this.pump(true);
      if (this.oldestHeld() >= target || this.writing.size === 0) return;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The place of the oldest row not yet written (queued or being written). */
  private oldestHeld(): number {
    let oldest = this.buffer.length > 0 ? this.buffer[0].n : Infinity;
    for (const slot of this.writing) oldest = Math.min(oldest, slot.firstN);
    return oldest;
  }

  private logDropped(): void {
    if (this.droppedSinceLog > 0) {
      this.logger.pino.error({ dropped: this.droppedSinceLog, total_dropped: this.dropped }, `${this.options.label} buffer full: entries dropped`);
      this.droppedSinceLog = 0;
    }
  }

  /**
   * Starts COPYs while there is a free slot and a batch for it: the first
   * with whatever is queued (up to batchSize), a second beside it only for a
   * whole batch. `retrying` ignores the wait after a failed write.
   */
  private pump(retrying = false): void {
    if (!retrying && Date.now() < this.retryAt) return;
    while (this.buffer.length > 0 && this.writing.size < this.writeConcurrency) {
      if (this.writing.size > 0 && this.buffer.length < this.batchSize) return;
      const batch = this.take();
      if (!batch) return;
      const slot: Slot = { firstN: batch[0].n, lastKey: this.options.orderKey ? this.options.orderKey(batch[batch.length - 1].row) : -Infinity };
      this.writing.add(slot);
      void this.writeBatch(batch).then((unwritten) => this.batchDone(slot, unwritten));
    }
  }

  /** A batch is done: gives back what could not be written, starts the next. */
  private batchDone(slot: Slot, unwritten: Array<Queued<T>>): void {
    this.writing.delete(slot);
    this.lastProgress = performance.now();
    if (unwritten.length > 0) {
      this.giveBack(unwritten);
      this.failures++;
      this.retryAt = Date.now() + this.options.flushIntervalMs;
    }
    this.logDropped();
    this.pump();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
    this.afterBatch();
  }

  /** Called after every batch, written or not (for a subclass that watches the queue drain). */
  protected afterBatch(): void {}

  /**
   * Whether the database takes the rows as they come: the last write did not
   * fail, and none has been going for longer than `stallMs` without a batch
   * finishing.
   */
  protected keepingUp(stallMs: number): boolean {
    if (Date.now() < this.retryAt) return false;
    return this.writing.size === 0 || performance.now() - this.lastProgress < stallMs;
  }

  /** The bytes held (rowBytes), queued and being written. */
  protected get heldBytes(): number {
    return this.bufferedBytes;
  }

  /**
   * The next batch, out of the queue (its rows still count as held), or
   * undefined when the first row may not be written beside the running
   * batches (see orderKey).
   */
  private take(): Array<Queued<T>> | undefined {
    const key = this.options.orderKey;
    let count = Math.min(this.batchSize, this.buffer.length);
    if (key) {
      const first = key(this.buffer[0].row);
      for (const slot of this.writing) if (first <= slot.lastKey) return undefined;
      // End where the key changes, so the next batch can start beside this one.
      if (count < this.buffer.length) {
        const next = key(this.buffer[count].row);
        let end = count;
        while (end > 0 && key(this.buffer[end - 1].row) >= next) end--;
        if (end > 0) count = end;
      }
    }
    return this.buffer.splice(0, count);
  }

  /** Rows a failed write gives back, to their place in the queue (another batch may have been given back before them). */
  private giveBack(rows: Array<Queued<T>>): void {
    let at = 0;
    while (at < this.buffer.length && this.buffer[at].n < rows[0].n) at++;
    // Not splice(at, 0, ...rows): a batch of thousands as arguments could overflow the stack.
    this.buffer = this.buffer.slice(0, at).concat(rows, this.buffer.slice(at));
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
        this.logger.pino.warn({ err: error, pending: this.heldRows }, `${this.options.label} write failed; entries kept for the next try`);
        return batch;
      }
      if (batch.length === 1) {
        this.deadLetter(batch[0], error);
        return [];
      }
      // One half after the other: two at once could commit the second half's rows first.
      const half = batch.length >> 1;
      const first = await this.writeBatch(batch.slice(0, half));
      // The database went away meanwhile: the second half waits with the first, behind it.
      if (first.length > 0) return [...first, ...batch.slice(half)];
      return this.writeBatch(batch.slice(half));
    }
    this.written += batch.length;
    for (const queued of batch) this.release(queued);
    return [];
  }

  private deadLetter(queued: Queued<T>, error: unknown): void {
    this.deadLettered++;
    this.release(queued);
    this.logger.pino.error(
      { err: error, entry: queued.row, total_dead_lettered: this.deadLettered },
      `${this.options.label} entry refused by the database; dead-lettered`,
    );
  }

  /** A row written or dead-lettered: it no longer counts against the bounds, and whoever waits for it is told. */
  private release(queued: Queued<T>): void {
    this.heldRows--;
    this.bufferedBytes -= queued.bytes;
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
