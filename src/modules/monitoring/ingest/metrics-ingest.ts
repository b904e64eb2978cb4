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
 * each push of the group is written again in a COPY of its own, so a push
 * that cannot be stored fails alone and nothing of it is stored), and the
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
        let stored = batch;
        try {
          await this.metrics.copyBatches(batch);
        } catch (error) {
          // One push's rows fail the COPY of all: each is written again alone, so only the push at fault fails.
          stored = batch.length === 1 ? [] : await this.writeAlone(batch);
          if (batch.length === 1) batch[0].reject(error);
        }
        if (stored.length === 0) continue;
        // The samples are stored: a failure here only leaves last_seen_at behind until the next push.
        await this.metrics.markSeen(stored).catch((error: unknown) => this.logger.pino.warn({ err: error }, 'servers\' last_seen_at not moved'));
        for (const pending of stored) pending.resolve();
      }
    } finally {
      this.writers--;
    }
  }

  /** The pushes of a failed group, each in a COPY of its own: answers those stored, refuses the others. */
  private async writeAlone(batch: Pending[]): Promise<Pending[]> {
    const stored: Pending[] = [];
    for (const pending of batch) {
      try {
        await this.metrics.copyBatches([pending]);
        stored.push(pending);
      } catch (error) {
        this.logger.pino.warn({ err: error, server: pending.serverId }, 'a push\'s samples were not stored');
        pending.reject(error);
      }
    }
    return stored;
  }
}
