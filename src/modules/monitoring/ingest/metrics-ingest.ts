import { Injectable } from '@nestjs/common';
import { AppLogger } from '../../../common/logging/app-logger';
import { ServerMetricsRepository, ServerSample } from '../repositories/server-metrics.repository';

interface Pending {
  serverId: string;
  samples: ServerSample[];
  seenAt: Date;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Samples per write at most (a burst beyond it is written in several). */
const MAX_SAMPLES_PER_WRITE = 50_000;
/** Writes at once: the next group is encoded and sent while PostgreSQL stores the previous one. */
const WRITERS = 2;

/**
 * Agents' pushes stored with group commit: a write starts as soon as one of
 * the WRITERS is free and takes every push that arrived meanwhile (one COPY
 * for all of them), so an idle platform pays one COPY per push and a busy one
 * writes large batches. Each push's
 * promise settles when its samples are committed (or the write failed: then
 * every push of it is refused, and nothing of theirs is stored), and the
 * servers' last_seen_at moved (one more statement; should it fail, the
 * samples stay and the pushes succeed).
 */
@Injectable()
export class MetricsIngest {
  private queue: Pending[] = [];
  private writers = 0;

  constructor(
    private readonly metrics: ServerMetricsRepository,
    private readonly logger: AppLogger,
  ) {}

  write(serverId: string, samples: ServerSample[], seenAt: Date): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ serverId, samples, seenAt, resolve, reject });
      if (this.writers < WRITERS) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writers++;
    try {
      while (this.queue.length > 0) {
        let count = 0;
        let take = 0;
        while (take < this.queue.length && (take === 0 || count + this.queue[take].samples.length <= MAX_SAMPLES_PER_WRITE)) {
          count += this.queue[take].samples.length;
          take++;
        }
        const batch = this.queue.splice(0, take);
        try {
          await this.metrics.copyBatches(batch);
        } catch (error) {
          for (const pending of batch) pending.reject(error);
          continue;
        }
        // The samples are stored: a failure here only leaves last_seen_at behind until the next push.
        await this.metrics.markSeen(batch).catch((error: unknown) => this.logger.pino.warn({ err: error }, 'servers\' last_seen_at not moved'));
        for (const pending of batch) pending.resolve();
      }
    } finally {
      this.writers--;
    }
  }
}
