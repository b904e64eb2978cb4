import { Injectable } from '@nestjs/common';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import { pgPool, queryPrepared } from '../../../common/database/pg-pool';
import type { HistoryBuckets, HistoryMetric } from '../history-buckets';

/** One server_metrics row (migration 1765800000000-Servers). */
export interface ServerSample {
  recordedAt: Date;
  cpuPercent: number;
  memoryPercent: number;
  diskPercent: number;
  networkInBytes: number;
  networkOutBytes: number;
  load1m: number;
}

/** One bucket of a series: its start and the folded value, null where no sample fell. */
export interface HistoryRow {
  bucket: Date;
  value: number | null;
}

/**
 * How each metric folds a bucket: the gauges are averaged; network is the
 * bytes received plus sent within the bucket (each sample holds its
 * interval's bytes, so a sum is exact whatever the sampling rate).
 */
const FOLD: Record<HistoryMetric, string> = {
  cpu: 'avg(cpu_percent)::float8',
  memory: 'avg(memory_percent)::float8',
  disk: 'avg(disk_percent)::float8',
  network: 'sum(coalesce(network_in_bytes, 0) + coalesce(network_out_bytes, 0))::float8',
};

const SAMPLE_COLUMNS = `recorded_at AS "recordedAt", cpu_percent AS "cpuPercent", memory_percent AS "memoryPercent", disk_percent AS "diskPercent",
  network_in_bytes::float8 AS "networkInBytes", network_out_bytes::float8 AS "networkOutBytes", load_1m AS "load1m"`;

const COPY_SQL = 'COPY server_metrics (server_id, recorded_at, cpu_percent, memory_percent, disk_percent, network_in_bytes, network_out_bytes, load_1m) FROM STDIN';

/** The text COPY rows of the batches, in chunks of a batch each. */
function* copyText(batches: Array<{ serverId: string; samples: ServerSample[] }>): Generator<string> {
  for (const { serverId, samples } of batches) {
    let chunk = '';
    for (const s of samples) {
      chunk += `${serverId}\t${s.recordedAt.toISOString()}\t${s.cpuPercent}\t${s.memoryPercent}\t${s.diskPercent}\t${s.networkInBytes}\t${s.networkOutBytes}\t${s.load1m}\n`;
    }
    yield chunk;
  }
}

/** `server_metrics` (partitioned by month on recorded_at; no entity): every statement of it. */
@Injectable()
export class ServerMetricsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Pushed batches of any number of servers, written together in one text
   * COPY (PostgreSQL's bulk path: rows go in by pages, not one INSERT
   * executor pass each). The samples are validated already (numbers and ISO
   * timestamps: nothing in them can break the text format).
   */
  async copyBatches(batches: Array<{ serverId: string; samples: ServerSample[] }>): Promise<void> {
    const client: PoolClient = await pgPool(this.dataSource).connect();
    try {
      await pipeline(Readable.from(copyText(batches)), client.query(copyFrom(COPY_SQL)));
      client.release();
    } catch (error) {
      client.release(error as Error);
      throw error;
    }
  }

  /**
   * Moves servers' last_seen_at forward, in one statement. The rows are
   * locked in id order, as a probe round locks them, so the two never
   * deadlock.
   */
  async markSeen(seen: Array<{ serverId: string; seenAt: Date }>): Promise<void> {
    await queryPrepared(
      this.dataSource,
      'server_metrics.seen',
      `WITH seen AS (
         SELECT id, max(at) AS at FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, at) GROUP BY id
       ), locked AS (
         SELECT s.id, seen.at FROM servers s JOIN seen USING (id) ORDER BY s.id FOR NO KEY UPDATE OF s
       )
       UPDATE servers SET last_seen_at = greatest(last_seen_at, locked.at) FROM locked WHERE servers.id = locked.id`,
      [seen.map((b) => b.serverId), seen.map((b) => b.seenAt.toISOString())],
    );
  }

  /**
   * The host sampler's row for `local`, unless another replica stored one
   * less than `minGapSeconds` ago (every replica samples on its own timer;
   * the first to write in an interval wins). Answers whether it was stored.
   */
  async insertUnlessRecent(serverId: string, sample: ServerSample, minGapSeconds: number): Promise<boolean> {
    const [rows]: [unknown[], number] = await this.dataSource.query(
      `WITH stored AS (
         INSERT INTO server_metrics (server_id, recorded_at, cpu_percent, memory_percent, disk_percent, network_in_bytes, network_out_bytes, load_1m)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8
          WHERE NOT EXISTS (SELECT 1 FROM server_metrics WHERE server_id = $1 AND recorded_at > $2::timestamptz - make_interval(secs => $9::float8) AND recorded_at <= $2::timestamptz)
         RETURNING recorded_at
       )
       UPDATE servers SET last_seen_at = greatest(last_seen_at, stored.recorded_at) FROM stored WHERE id = $1 RETURNING id`,
      [serverId, sample.recordedAt, sample.cpuPercent, sample.memoryPercent, sample.diskPercent, sample.networkInBytes, sample.networkOutBytes, sample.load1m, minGapSeconds],
    );
    return rows.length > 0;
  }

  /** The newest sample of a server (within retention: only recent months are worth reading first). */
  async latest(serverId: string): Promise<ServerSample | null> {
    const rows: ServerSample[] = await this.dataSource.query(
      `SELECT ${SAMPLE_COLUMNS} FROM server_metrics WHERE server_id = $1 ORDER BY recorded_at DESC LIMIT 1`,
      [serverId],
    );
    return rows[0] ?? null;
  }

  /**
   * Every bucket of the axis, in order, with the server's samples folded
   * (date_bin on the axis's own origin, so buckets and generate_series
   * agree). Bounded on recorded_at: only the months asked for are read, by the
   * (server_id, recorded_at) index.
   */
  async series(serverId: string, metric: HistoryMetric, buckets: HistoryBuckets): Promise<HistoryRow[]> {
    return this.dataSource.query(
      `WITH axis AS (
         SELECT generate_series($2::timestamptz, $3::timestamptz - make_interval(secs => $4::float8), make_interval(secs => $4::float8)) AS bucket
       ), folded AS (
         SELECT date_bin(make_interval(secs => $4::float8), recorded_at, $2::timestamptz) AS bucket, ${FOLD[metric]} AS value
           FROM server_metrics
          WHERE server_id = $1 AND recorded_at >= $2 AND recorded_at < $3
          GROUP BY 1
       )
       SELECT axis.bucket, folded.value FROM axis LEFT JOIN folded USING (bucket) ORDER BY axis.bucket`,
      [serverId, buckets.start, buckets.end, buckets.stepSeconds],
    );
  }
}
