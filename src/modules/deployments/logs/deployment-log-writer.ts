import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { BatchedCopyWriter } from '../../../common/database/batched-copy-writer';
import { AppLogger } from '../../../common/logging/app-logger';
import { MAX_LINE_BYTES } from '../runtime/app-sandbox';
import { DeploymentLogInput, DeploymentLogRow, LogLevel, LogSource } from './deployment-log';
import { COPY_SQL, deploymentLogRow } from './deployment-log-copy';
import { DeploymentLogRepository } from './deployment-log.repository';
import { refill, TokenBucket } from './token-bucket';

/** Lines queued at most, and the memory they may take (a line counts twice its length, UTF-16, plus its row). */
const BUFFER_LINES = 100_000;
const BUFFER_BYTES = 64 * 1024 * 1024;
const ROW_OVERHEAD_BYTES = 256;
const FLUSH_INTERVAL_MS = 500;
/**
 * Rows per COPY, and COPYs at once. Measured with a flooding app (bench:deploy
 * (c)): each COPY costs a round trip, a commit and its WAL flush, so larger
 * batches do more per commit; two at once keep PostgreSQL busy while the
 * other commits and while Node encodes. Order is kept by orderKey (below).
 */
const BATCH_LINES = 10_000;
const WRITE_CONCURRENCY = 2;
/** The metadata of a line that has none: one shared object instead of one per line (a flood allocates millions). */
const NO_METADATA: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;
/** How often buckets are looked at: drop markers of deployments gone quiet, and forgetting idle buckets. */
const SWEEP_INTERVAL_MS = 1000;
/**
 * Backpressure: above half the queue's bounds apps' output is read no faster
 * than it is stored, until the queue is down to a quarter — while the
 * database keeps up (a write that fails, or goes STALL_MS without a batch
 * finishing, lets every app go on, and lines drop as before).
 */
const HIGH_WATER = 0.5;
const LOW_WATER = 0.25;
const STALL_MS = 5000;

const DEFAULT_LEVEL: Record<LogSource, LogLevel> = { stdout: 'info', stderr: 'warn', platform: 'info' };

/**
 * A deployment's token bucket: lines it may still write now, when that was
 * computed, and lines dropped since the last marker — over its rate
 * (`dropped`), or because the queue was full (`full`).
 */
interface Bucket extends TokenBucket {
  dropped: number;
  full: number;
}

/**
 * Stores deployments' log lines (their apps' stdout and stderr, the platform's
 * events) in deployment_logs, with COPY in batches (BatchedCopyWriter): lines
 * are queued and written every FLUSH_INTERVAL_MS, or at once when a batch is
 * full; up to two COPYs at once, never with lines of the same millisecond in
 * both, so lines of one instant keep their order (seq). A crash loses what
 * was queued.
 *
 * Nothing a deployed app does can make it hold more memory:
 * - a line over MAX_LINE_BYTES (16 KB) is cut there and flagged `truncated`;
 * - each deployment's output (stdout, stderr) goes through a token bucket of
 *   DEPLOY_LOG_LINES_PER_SECOND lines a second, bursts up to twice that. Lines
 *   beyond it are dropped and counted, and once the bucket has refilled one
 *   platform line "N lines dropped (over DEPLOY_LOG_LINES_PER_SECOND)" is
 *   written before the deployment's next line (or within a second, if it went
 *   quiet). The platform's own lines are not limited: they are few, and a
 *   crash must show even in a flood;
 * - the queue holds BUFFER_LINES lines and BUFFER_BYTES at most, the lines
 *   being written included (the database is down or slower than the apps);
 *   beyond that lines are dropped, counted,
 *   logged, and said in the deployment's own logs as "N lines dropped (log
 *   buffer full)" once there is room again.
 */
@Injectable()
export class DeploymentLogWriter extends BatchedCopyWriter<DeploymentLogRow> {
  private readonly buckets = new Map<string, Bucket>();
  private readonly linesPerSecond: number;
  private readonly burst: number;
  private sweepTimer?: NodeJS.Timeout;
  /** The time given to the last line queued: a line is never timed before the one queued before it. */
  private lastTime = 0;
  /** Output lines dropped by the rate limit, in all. */
  rateLimited = 0;
  /** Apps' outputs waiting for the queue to drain. */
  private drainWaiters: Array<() => void> = [];

  constructor(
    dataSource: DataSource,
    logger: AppLogger,
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly logs: DeploymentLogRepository,
  ) {
    super(dataSource, logger, {
      label: 'deployment log',
      sql: COPY_SQL,
      format: deploymentLogRow,
      bufferSize: BUFFER_LINES,
      bufferBytes: BUFFER_BYTES,
      rowBytes: (row) => 2 * row.message.length + ROW_OVERHEAD_BYTES,
      flushIntervalMs: FLUSH_INTERVAL_MS,
      batchSize: BATCH_LINES,
      writeConcurrency: WRITE_CONCURRENCY,
      // Lines are ordered by (created_at, seq), and seq is taken as a COPY
      // inserts: lines of the same millisecond must not be in two COPYs at
      // once, or the later COPY's might get the smaller seq. Times never go
      // back along the queue (clock()), so the writer can cut batches there.
      orderKey: (row) => row.createdAt.getTime(),
    });
    this.linesPerSecond = config.deployments.logLinesPerSecond;
    this.burst = 2 * this.linesPerSecond;
  }

  override onModuleInit(): void {
    super.onModuleInit();
    this.sweepTimer = setInterval(() => {
      this.sweep(Date.now());
      // A stall shows without a batch finishing: looked at here too.
      this.afterBatch();
    }, SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  override async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.sweepTimer);
    this.releaseOutputs();
    // Whatever was dropped is said, refilled or not.
    for (const [deploymentId, bucket] of this.buckets) if (bucket.dropped + bucket.full > 0) this.writeDropMarker(deploymentId, bucket, Date.now());
    await super.beforeApplicationShutdown();
  }

  /**
   * Queues one line of a deployment, timed now. Returns false when it was
   * dropped (over the deployment's rate, or the queue is full).
   */
  append(deploymentId: string, input: DeploymentLogInput): boolean {
    const now = this.clock();
    if (input.source !== 'platform' && !this.admit(deploymentId, now)) return false;
    // Most lines need no change: no object for what storableMessage would give back.
    const text = input.message;
    const stored = needsChange(text) ? storableMessage(text) : undefined;
    const queued = this.enqueue({
      deploymentId,
      createdAt: new Date(now),
      level: input.level ?? DEFAULT_LEVEL[input.source],
      source: input.source,
      message: stored ? stored.message : text,
      truncated: stored?.truncated === true || input.truncated === true,
      metadata: input.metadata ?? NO_METADATA,
    });
    if (!queued) this.bucketOf(deploymentId, now).full++;
    return queued;
  }

  /**
   * Whether apps' output should be read no faster than it is stored now: the
   * queue is over half its bounds and the database keeps up (otherwise lines
   * are dropped, and counted, rather than apps kept waiting).
   */
  congested(): boolean {
    return this.over(HIGH_WATER) && this.keepingUp(STALL_MS);
  }

  /** Resolves once the queue is down to a quarter of its bounds, or the database stops keeping up. */
  drained(): Promise<void> {
    if (!this.congested()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  protected override afterBatch(): void {
    if (this.drainWaiters.length > 0 && (!this.over(LOW_WATER) || !this.keepingUp(STALL_MS))) this.releaseOutputs();
  }

  private over(share: number): boolean {
    return this.pending >= share * BUFFER_LINES || this.heldBytes >= share * BUFFER_BYTES;
  }

  private releaseOutputs(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Now, in ms, but never before the time of the line queued last (the clock
   * may be set back): the queue stays in time order, which is what lets the
   * writer cut batches between milliseconds (orderKey).
   */
  private clock(now = Date.now()): number {
    if (now > this.lastTime) this.lastTime = now;
    return this.lastTime;
  }

  /**
   * Removes every stored line of a deployment that was deleted. Lines still
   * queued are written first, so none is left behind (unless the database is
   * down: then they stay queued and outlive this); stop the deployment before,
   * so that no new line comes.
   */
  async removeAll(deploymentId: string): Promise<number> {
    this.buckets.delete(deploymentId);
    await this.flush();
    return this.logs.deleteAll(deploymentId);
  }

  /** Takes a token of the deployment's bucket; counts the line as dropped when there is none. */
  private admit(deploymentId: string, now: number): boolean {
    const bucket = this.bucketOf(deploymentId, now);
    if (bucket.tokens < 1) {
      bucket.dropped++;
      this.rateLimited++;
      return false;
    }
    if (bucket.dropped + bucket.full > 0) this.writeDropMarker(deploymentId, bucket, now);
    bucket.tokens -= 1;
    return true;
  }

  /** The deployment's bucket, refilled to now (a new one is full). */
  private bucketOf(deploymentId: string, now: number): Bucket {
    let bucket = this.buckets.get(deploymentId);
    if (!bucket) {
      bucket = { tokens: this.burst, at: now, dropped: 0, full: 0 };
      this.buckets.set(deploymentId, bucket);
    } else {
      refill(bucket, now, this.linesPerSecond, this.burst);
    }
    return bucket;
  }

  /**
   * Says how many lines were dropped for deployments whose bucket has refilled
   * but that wrote nothing since, and forgets the buckets of deployments that
   * are quiet (full, nothing dropped), so the map holds only recent talkers.
   */
  sweep(now: number): void {
    for (const [deploymentId, bucket] of this.buckets) {
      refill(bucket, now, this.linesPerSecond, this.burst);
      if (bucket.dropped + bucket.full > 0 && bucket.tokens >= 1) this.writeDropMarker(deploymentId, bucket, now);
      else if (bucket.dropped + bucket.full === 0 && bucket.tokens >= this.burst) this.buckets.delete(deploymentId);
    }
  }

  /** One platform line saying what was dropped since the last; kept counting if the queue has no room for it either. */
  private writeDropMarker(deploymentId: string, bucket: Bucket, now: number): void {
    const { dropped, full } = bucket;
    const said = [
      ...(dropped > 0 ? [`${dropped} lines dropped (over DEPLOY_LOG_LINES_PER_SECOND)`] : []),
      ...(full > 0 ? [`${full} lines dropped (log buffer full)`] : []),
    ].join('; ');
    // No room yet: not tried, or the writer would count one more dropped row for each line that finds the queue full.
    if (!this.hasRoom(2 * said.length + ROW_OVERHEAD_BYTES)) return;
    const queued = this.enqueue({
      deploymentId,
      createdAt: new Date(this.clock(now)),
      level: 'warn',
      source: 'platform',
      message: said,
      truncated: false,
      metadata: { dropped_lines: dropped + full, ...(dropped > 0 ? { over_rate: dropped } : {}), ...(full > 0 ? { buffer_full: full } : {}) },
    });
    if (queued) {
      bucket.dropped = 0;
      bucket.full = 0;
    }
  }
}

/**
 * The message as stored: at most MAX_LINE_BYTES of UTF-8, cut at a character
 * boundary, and without NUL characters (PostgreSQL's text refuses them, which
 * would cost the line; each becomes U+FFFD). A lone surrogate becomes U+FFFD
 * when the row is encoded.
 */
export function storableMessage(text: string): { message: string; truncated: boolean } {
  let message = text.includes('\0') ? text.replace(/\0/g, '\uFFFD') : text;
  let truncated = false;
  if (mayBeTooLong(message) && Buffer.byteLength(message) > MAX_LINE_BYTES) {
    const bytes = Buffer.from(message, 'utf8');
    let end = MAX_LINE_BYTES;
    // Back to the first byte of the character the cut falls into (continuation bytes are 10xxxxxx).
    while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
    message = bytes.subarray(0, end).toString('utf8');
    truncated = true;
  }
  return { message, truncated };
}

/** A UTF-16 code unit takes at most 3 bytes of UTF-8: short lines need no counting. */
function mayBeTooLong(text: string): boolean {
  return text.length * 3 > MAX_LINE_BYTES;
}

/** Whether storableMessage might change the text (a cheap test: most lines are short and have no NUL). */
function needsChange(text: string): boolean {
  return mayBeTooLong(text) || text.includes('\0');
}
