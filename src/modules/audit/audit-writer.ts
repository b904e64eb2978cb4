import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { pgPool } from '../../common/database/pg-pool';
import { AppLogger } from '../../common/logging/app-logger';
import { COPY_SQL, copyStream } from './audit-copy';
import { AuditEntry } from './audit-entry';

const BATCH_SIZE = 5000;
const WRITE_CONCURRENCY = 2;

/**
 * Audit entries never cost a request a database round trip: they are buffered
 * and written with COPY in batches, at least every AUDIT_FLUSH_INTERVAL_MS and
 * at once when a batch is full, and flushed on shutdown. While the database is
 * down the entries wait (up to AUDIT_BUFFER_SIZE) and are written when it is
 * back; entries beyond that are dropped, counted and logged.
 */
@Injectable()
export class AuditWriter implements OnModuleInit, BeforeApplicationShutdown {
  private buffer: AuditEntry[] = [];
  private flushing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private droppedSinceLog = 0;
  dropped = 0;
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

  record(entry: AuditEntry): void {
    if (this.buffer.length >= this.config.audit.bufferSize) {
      this.dropped++;
      this.droppedSinceLog++;
      return;
    }
    this.buffer.push(entry);
    if (this.buffer.length >= BATCH_SIZE && !this.flushing) void this.flush();
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
      const batches: AuditEntry[][] = [];
      while (batches.length < WRITE_CONCURRENCY && this.buffer.length > 0) batches.push(this.buffer.splice(0, BATCH_SIZE));
      const results = await Promise.allSettled(batches.map((batch) => this.copy(batch)));
      const failed: AuditEntry[] = [];
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') this.written += batches[i].length;
        else failed.push(...batches[i]);
      });
      if (failed.length > 0) {
        const reason = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        this.buffer.unshift(...failed);
        this.logger.pino.warn({ err: reason.reason, pending: this.buffer.length }, 'audit write failed; entries kept for the next try');
        return;
      }
    }
  }

  /** One COPY of the given entries. */
  async copy(entries: AuditEntry[]): Promise<void> {
    const client: PoolClient = await pgPool(this.dataSource).connect();
    try {
      await pipeline(Readable.from(copyStream(entries)), client.query(copyFrom(COPY_SQL)));
      client.release();
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
  }
}
