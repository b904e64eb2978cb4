import { BeforeApplicationShutdown, Injectable, OnModuleInit } from '@nestjs/common';
import { AppLogger } from '../../common/logging/app-logger';
import { ApiKeyRepository, KeyUsage } from './repositories/api-key.repository';

const FLUSH_INTERVAL_MS = 1000;

/**
 * Counts API key uses in memory and writes them once a second in one UPDATE for
 * all keys used meanwhile, so a busy key costs no write per request. Pending
 * counts are written on shutdown; a failed write keeps them for the next try.
 */
@Injectable()
export class ApiKeyUsageRecorder implements OnModuleInit, BeforeApplicationShutdown {
  private pending = new Map<string, KeyUsage>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly keys: ApiKeyRepository,
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
    try {
      await this.keys.addUsage(batch);
    } catch (error) {
      this.logger.pino.warn({ err: error, keys: batch.size }, 'could not record API key usage; will retry');
      for (const [id, entry] of batch) {
        const newer = this.pending.get(id);
        this.pending.set(id, newer ? { count: newer.count + entry.count, lastUsedAt: newer.lastUsedAt } : entry);
      }
    }
  }
}
