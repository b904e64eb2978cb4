import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { bucketsOf, MetricName, MetricPeriod, MetricResolution } from '../metrics/metric-buckets';
import { MetricBucketRow, SandboxMetricsRepository } from '../metrics/sandbox-metrics.repository';

/** GET /deployments/:id/metrics's choices (DeploymentMetricsRequest implements it). */
export interface DeploymentMetricsFilters {
  metrics: MetricName[];
  period: MetricPeriod;
  resolution: MetricResolution;
}

export interface MetricPoint {
  /** The bucket's start. */
  timestamp: string;
  /** null: no sample fell in the bucket (the app was not running, or the bucket is still to come). */
  value: number | null;
}

export interface DeploymentMetrics {
  period: MetricPeriod;
  resolution: MetricResolution;
  metrics: Partial<Record<MetricName, MetricPoint[]>>;
}

/** Gauges are averaged per bucket, counts summed; memory and disk are whole bytes, cpu two decimals. */
const VALUE: Record<MetricName, (row: MetricBucketRow) => number | null> = {
  cpu: (row) => (row.cpu === null ? null : Math.round(row.cpu * 100) / 100),
  memory: (row) => (row.memory === null ? null : Math.round(row.memory)),
  disk: (row) => (row.disk === null ? null : Math.round(row.disk)),
  requests: (row) => row.requests,
  errors: (row) => row.errors,
  network_in: (row) => row.network_in,
  network_out: (row) => row.network_out,
};

/**
 * A deployment's time series: a fixed number of buckets for the period at the
 * resolution (the last one holding now), folded in SQL. It does not check
 * who asks: the caller has already found the deployment with
 * GetDeploymentQuery for the actor, and passes only its id here.
 */
export class GetDeploymentMetricsQuery extends Query<DeploymentMetrics> {
  constructor(
    readonly deploymentId: string,
    readonly filters: DeploymentMetricsFilters,
    readonly now: Date = new Date(),
  ) {
    super();
  }
}

@QueryHandler(GetDeploymentMetricsQuery)
export class GetDeploymentMetricsHandler implements IQueryHandler<GetDeploymentMetricsQuery> {
  constructor(private readonly metrics: SandboxMetricsRepository) {}

  async execute({ deploymentId, filters, now }: GetDeploymentMetricsQuery): Promise<DeploymentMetrics> {
    // Too many points answers 400 VALIDATION_ERROR naming `resolution`.
    const buckets = bucketsOf(filters.period, filters.resolution, now);
    const rows = await this.metrics.series(deploymentId, buckets);
    const metrics: DeploymentMetrics['metrics'] = {};
    for (const name of new Set(filters.metrics)) {
      metrics[name] = rows.map((row) => ({ timestamp: row.bucket.toISOString(), value: VALUE[name](row) }));
    }
    return { period: filters.period, resolution: filters.resolution, metrics };
  }
}
