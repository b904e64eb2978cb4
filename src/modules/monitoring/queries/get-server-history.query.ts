import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { HistoryMetric, historyBuckets, TimeRange } from '../history-buckets';
import { ServerRepository } from '../repositories/server.repository';
import { ServerMetricsRepository } from '../repositories/server-metrics.repository';
import { ownedServer } from '../owned-server';

export interface HistoryPoint {
  /** The bucket's start. */
  timestamp: string;
  /** null: no sample in the bucket. */
  value: number | null;
}

export interface ServerHistory {
  server_id: string;
  metric: HistoryMetric;
  time_range: TimeRange;
  data: HistoryPoint[];
}

/**
 * A server's metric over a range, in a fixed number of buckets folded in SQL
 * (history-buckets.ts); someone else's server answers 404.
 */
export class GetServerHistoryQuery extends Query<ServerHistory> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
    readonly metric: HistoryMetric,
    readonly timeRange: TimeRange,
    readonly now: Date = new Date(),
  ) {
    super();
  }
}

@QueryHandler(GetServerHistoryQuery)
export class GetServerHistoryHandler implements IQueryHandler<GetServerHistoryQuery> {
  constructor(
    private readonly servers: ServerRepository,
    private readonly metrics: ServerMetricsRepository,
  ) {}

  async execute({ id, actor, metric, timeRange, now }: GetServerHistoryQuery): Promise<ServerHistory> {
    await ownedServer(this.servers, id, actor);
    const rows = await this.metrics.series(id, metric, historyBuckets(timeRange, now));
    const round = metric === 'network' ? Math.round : (value: number) => Math.round(value * 100) / 100;
    return {
      server_id: id,
      metric,
      time_range: timeRange,
      data: rows.map((row) => ({ timestamp: row.bucket.toISOString(), value: row.value === null ? null : round(row.value) })),
    };
  }
}
