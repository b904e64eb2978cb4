import Redis from 'ioredis';

/** Fixed-window counters: increment and read in one step, expiring with the window. */
export interface CounterStore {
  increment(keys: Array<{ key: string; ttlMs: number }>): Promise<number[]>;
  close(): Promise<void>;
}

/** One node: counts in a Map, expired windows swept once a minute. */
export class MemoryCounterStore implements CounterStore {
  private readonly counters = new Map<string, { count: number; expiresAt: number }>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  async increment(keys: Array<{ key: string; ttlMs: number }>): Promise<number[]> {
    const now = Date.now();
    return keys.map(({ key, ttlMs }) => {
      const counter = this.counters.get(key);
      if (!counter || counter.expiresAt <= now) {
        this.counters.set(key, { count: 1, expiresAt: now + ttlMs });
        return 1;
      }
      return ++counter.count;
    });
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(key);
  }
}

/** Several replicas: INCR + PEXPIRE NX in one round trip, so all share one count. */
export class RedisCounterStore implements CounterStore {
  private readonly redis: Redis;

  constructor(url: string, prefix: string) {
    this.redis = new Redis(url, { keyPrefix: prefix, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
    this.redis.on('error', () => undefined); // reported by the failing calls instead
  }

  async increment(keys: Array<{ key: string; ttlMs: number }>): Promise<number[]> {
    const pipeline = this.redis.multi();
    for (const { key, ttlMs } of keys) {
      pipeline.incr(key);
      pipeline.call('PEXPIRE', key, String(ttlMs), 'NX');
    }
    const results = (await pipeline.exec()) ?? [];
    return keys.map((_, i) => {
      const [error, value] = results[i * 2];
      if (error) throw error;
      return Number(value);
    });
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
