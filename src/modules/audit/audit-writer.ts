import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { BatchedCopyWriter } from '../../common/database/batched-copy-writer';
import { AppLogger } from '../../common/logging/app-logger';
import { acceptableEntry } from './acceptable-entry';
import { COPY_SQL, auditRow } from './audit-copy';
import { AuditEntry } from './audit-entry';

/**
 * Audit entries are written with COPY in batches (BatchedCopyWriter), and no
 * entry can stop the trail: each is made acceptable before it is queued
 * (acceptable-entry.ts), and an entry PostgreSQL still refuses goes to the
 * dead letter, never back to the queue.
 *
 * Two ways to wait (AUDIT_DURABILITY):
 * - `sync` (default): `recordDurably` resolves once the entry is committed, and
 *   the response waits for it (group commit). A response waits at most
 *   AUDIT_SYNC_TIMEOUT_MS (the database is down); its entry stays queued.
 * - `async`: `record` only queues; batches are written every
 *   AUDIT_FLUSH_INTERVAL_MS, or at once when one is full. A crash loses what
 *   was queued.
 * While the database is down entries wait (up to AUDIT_BUFFER_SIZE) and are
 * written when it is back; entries beyond that are dropped, counted and logged.
 * Everything queued is flushed on shutdown.
 */
@Injectable()
export class AuditWriter extends BatchedCopyWriter<AuditEntry> {
  constructor(
    dataSource: DataSource,
    logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    super(dataSource, logger, {
      label: 'audit',
      sql: COPY_SQL,
      format: auditRow,
      bufferSize: config.audit.bufferSize,
      flushIntervalMs: config.audit.flushIntervalMs,
    });
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
    return this.enqueueDurably(acceptableEntry(entry), this.config.audit.syncTimeoutMs);
  }
}
