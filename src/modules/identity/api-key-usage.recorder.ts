import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppLogger } from '../../common/logging/app-logger';

const FLUSH_INTERVAL_MS = 1000;

/**
 * Counts API key uses in memory and writes them once a second in one UPDATE for
 * all keys used meanwhile, so a busy key costs no write per request. Pending
 * counts are written on shutdown; a failed write keeps them for the next try.
 */
@Injectable()
export class ApiKeyUsageRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private pending = new Map<string, { count: number; lastUsedAt: Date }>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: AppLogger,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(keyId: string): void {
    const entry = this.pending.get(keyId);
    if (entry) {
      entry.count++;
      entry.lastUsedAt = new Date();
    } else {
      this.pending.set(keyId, { count: 1, lastUsedAt: new Date() });
    }
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const ids = [...batch.keys()];
    try {
      await this.dataSource.query(
        `UPDATE api_keys k SET usage_count = k.usage_count + u.count,
                last_used_at = GREATEST(COALESCE(k.last_used_at, u.last_used_at), u.last_used_at)
           FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS u(id, count, last_used_at)
          WHERE k.id = u.id`,
        [ids, ids.map((id) => batch.get(id)!.count), ids.map((id) => batch.get(id)!.lastUsedAt)],
      );
    } catch (error) {
      this.logger.pino.warn({ err: error, keys: ids.length }, 'could not record API key usage; will retry');
      for (const [id, entry] of batch) {
        const newer = this.pending.get(id);
        this.pending.set(id, newer ? { count: newer.count + entry.count, lastUsedAt: newer.lastUsedAt } : entry);
      }
    }
  }
}
