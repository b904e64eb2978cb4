import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Buckets } from './metric-buckets';

/** One sandbox_metrics row (migration 1765700000000-SandboxMetrics). */
export interface SandboxSample {
  deploymentId: string;
  createdAt: Date;
  /** Over the interval since the app's previous sample; 100 = one core; null when unknown. */
  cpuPercent: number | null;
  memoryBytes: number | null;
  diskBytes: number | null;
  networkInBytes: number | null;
  networkOutBytes: number | null;
  /** Within the interval since the previous sample. */
  requests: number;
  errors: number;
}

/** One bucket of a deployment's series: averages of the gauges, sums of the counts; null where no sample fell. */
export interface MetricBucketRow {
  bucket: Date;
  cpu: number | null;
  memory: number | null;
  disk: number | null;
  requests: number | null;
  errors: number | null;
  network_in: number | null;
  network_out: number | null;
}

export interface MetricsTotals {
  totalDeployments: number;
  activeDeployments: number;
  requests: number;
  errors: number;
}

/** A running deployment's row facts the admin list shows. */
export interface DeploymentFacts {
  id: string;
  name: string;
  currentVersion: number;
}

const INT_MAX = 2_147_483_647;

/** `sandbox_metrics` (partitioned by month; no entity), read and written only here. */
@Injectable()
export class SandboxMetricsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One statement for a whole tick, whatever the number of apps: a row per array element. */
  /** A deleted deployment's samples (readers join deployments, but retention should not be the only way out). */
  async deleteAll(deploymentId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM sandbox_metrics WHERE deployment_id = $1`, [deploymentId]);
  }

  async insert(samples: SandboxSample[]): Promise<void> {
    if (!samples.length) return;
    const column = <T>(pick: (sample: SandboxSample) => T): T[] => samples.map(pick);
    await this.dataSource.query(
      `INSERT INTO sandbox_metrics (deployment_id, created_at, cpu_percent, memory_bytes, disk_bytes, network_in_bytes, network_out_bytes, requests, errors)
       SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::real[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::integer[], $9::integer[])`,
      [
        column((s) => s.deploymentId),
        column((s) => s.createdAt),
        column((s) => s.cpuPercent),
        column((s) => s.memoryBytes),
        column((s) => s.diskBytes),
        column((s) => s.networkInBytes),
        column((s) => s.networkOutBytes),
        column((s) => Math.min(INT_MAX, s.requests)),
        column((s) => Math.min(INT_MAX, s.errors)),
      ],
    );
  }

  /**
   * Every bucket of the axis, in order, with the deployment's samples in it
   * folded (date_bin on the axis's own origin, so buckets and generate_series
   * agree). Bounded on created_at: only the months asked for are read.
   */
  async series(deploymentId: string, buckets: Buckets): Promise<MetricBucketRow[]> {
    const rows: MetricBucketRow[] = await this.dataSource.query(
      `WITH axis AS (
         SELECT generate_series($2::timestamptz, $3::timestamptz - make_interval(secs => $4::float8), make_interval(secs => $4::float8)) AS bucket
       ), folded AS (
         SELECT date_bin(make_interval(secs => $4::float8), created_at, $2::timestamptz) AS bucket,
                avg(cpu_percent)::float8 AS cpu, avg(memory_bytes)::float8 AS memory, avg(disk_bytes)::float8 AS disk,
                sum(requests)::float8 AS requests, sum(errors)::float8 AS errors,
                sum(network_in_bytes)::float8 AS network_in, sum(network_out_bytes)::float8 AS network_out
           FROM sandbox_metrics
          WHERE deployment_id = $1 AND created_at >= $2 AND created_at < $3
          GROUP BY 1
       )
       SELECT axis.bucket, folded.cpu, folded.memory, folded.disk, folded.requests, folded.errors, folded.network_in, folded.network_out
         FROM axis LEFT JOIN folded USING (bucket)
        ORDER BY axis.bucket`,
      [deploymentId, buckets.start, buckets.end, buckets.stepSeconds],
    );
    return rows;
  }

  /**
   * Deployments (all, and running) of one owner — or of everyone when
   * `ownerId` is null — and their requests and 5xx answers since `since`.
   * Deleted deployments drop out with their rows (the join).
   */
  async totals(ownerId: string | null, since: Date): Promise<MetricsTotals> {
    const [row] = (await this.dataSource.query(
      `SELECT (SELECT count(*) FROM deployments WHERE $1::uuid IS NULL OR user_id = $1)::int AS "totalDeployments",
              (SELECT count(*) FROM deployments WHERE ($1::uuid IS NULL OR user_id = $1) AND status = 'running')::int AS "activeDeployments",
              coalesce(sum(m.requests), 0)::float8 AS requests,
              coalesce(sum(m.errors), 0)::float8 AS errors
         FROM sandbox_metrics m
         JOIN deployments d ON d.id = m.deployment_id
        WHERE m.created_at >= $2 AND ($1::uuid IS NULL OR d.user_id = $1)`,
      [ownerId, since],
    )) as MetricsTotals[];
    return row;
  }

  /** Name and current version of these deployments (the admin's list of live sandboxes). */
  async facts(ids: string[]): Promise<DeploymentFacts[]> {
    if (!ids.length) return [];
    return this.dataSource.query(`SELECT id, name, current_version AS "currentVersion" FROM deployments WHERE id = ANY($1::uuid[])`, [ids]);
  }
}
