import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, ArrayNotEmpty, IsArray, IsIn, ValidateBy } from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { MAX_POINTS, METRIC_NAMES, MetricName, MetricPeriod, MetricResolution, PERIODS, pointsOf, RESOLUTIONS } from '../../metrics/metric-buckets';
import type { DeploymentMetrics, DeploymentMetricsFilters, MetricPoint } from '../../queries/get-deployment-metrics.query';
import type { MetricsSummary } from '../../queries/get-metrics-summary.query';
import type { LiveSandboxList, LiveSandboxView } from '../../queries/list-live-sandboxes.query';

/** `cpu,memory` (or the parameter repeated) as a list; anything else is left for the validators to refuse. */
const commaList = ({ value }: { value: unknown }): unknown => {
  const parts = Array.isArray(value) ? value : [value];
  return parts.every((part) => typeof part === 'string') ? (parts as string[]).flatMap((part) => part.split(',').map((name) => name.trim())) : value;
};

/** The period at the resolution is at most MAX_POINTS points (a chart of 10 000 points is a mistake). */
const IsWithinMaxPoints = (): PropertyDecorator =>
  ValidateBy({
    name: 'isWithinMaxPoints',
    validator: {
      validate: (value: unknown, args) => {
        const period = (args?.object as { period?: unknown }).period;
        const known = (RESOLUTIONS as readonly unknown[]).includes(value) && (PERIODS as readonly unknown[]).includes(period);
        return !known || pointsOf(period as MetricPeriod, value as MetricResolution) <= MAX_POINTS;
      },
      defaultMessage: () => `$property over this period would be more than ${MAX_POINTS} points: choose a coarser resolution`,
    },
  });

/** `GET /deployments/:id/metrics?metrics=&period=&resolution=` */
export class DeploymentMetricsRequest implements DeploymentMetricsFilters {
  @ApiPropertyOptional({
    type: String, default: 'cpu,memory,requests', example: 'cpu,memory,requests',
    description: `Comma-separated, of: ${METRIC_NAMES.join(', ')}`,
  })
  @IsOptionalNotNull() @Transform(commaList) @IsArray() @ArrayNotEmpty() @ArrayMaxSize(METRIC_NAMES.length * 2) @IsIn(METRIC_NAMES, { each: true })
  metrics: MetricName[] = ['cpu', 'memory', 'requests'];

  @ApiPropertyOptional({ enum: PERIODS, default: '1h', description: 'How far back, up to now' })
  @IsOptionalNotNull() @IsIn(PERIODS)
  period: MetricPeriod = '1h';

  @ApiPropertyOptional({
    enum: RESOLUTIONS, default: '1m',
    description: `One point per this much time; at most ${MAX_POINTS} points (24h at 1m, 7d at 1m or 5m are refused)`,
  })
  @IsOptionalNotNull() @IsIn(RESOLUTIONS) @IsWithinMaxPoints()
  resolution: MetricResolution = '1m';
}

export class MetricPointResponse implements MetricPoint {
  @ApiProperty({ format: 'date-time', description: 'The bucket\'s start' }) timestamp!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'null: no sample in this bucket (not running then, or still to come)' }) value!: number | null;
}

const series = (description: string) => ApiPropertyOptional({ type: [MetricPointResponse], description });

export class MetricSeriesResponse implements Partial<Record<MetricName, MetricPoint[]>> {
  @series('CPU percent, averaged per bucket (100 = one core busy)') cpu?: MetricPoint[];
  @series('Resident memory of the app\'s processes in bytes, averaged per bucket') memory?: MetricPoint[];
  @series('Bytes its files take on disk, averaged per bucket') disk?: MetricPoint[];
  @series('Requests through the proxy, summed per bucket') requests?: MetricPoint[];
  @series('Requests answered 5xx (or not answered), summed per bucket') errors?: MetricPoint[];
  @series('Always 0: an app has only a loopback network device; its traffic is its requests') network_in?: MetricPoint[];
  @series('Always 0, as network_in') network_out?: MetricPoint[];
}

export class DeploymentMetricsResponse implements DeploymentMetrics {
  @ApiProperty({ enum: PERIODS }) period!: MetricPeriod;
  @ApiProperty({ enum: RESOLUTIONS }) resolution!: MetricResolution;
  @ApiProperty({ type: MetricSeriesResponse, description: 'One series per metric asked for, oldest point first, the last holding now' })
  metrics!: MetricSeriesResponse;
}

/** `GET /metrics/summary?all=&period=` */
export class MetricsSummaryRequest {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'false', description: 'true: every user\'s deployments (admins only; 403 for anyone else)' })
  @IsOptionalNotNull() @IsIn(['true', 'false'])
  all?: 'true' | 'false';

  @ApiPropertyOptional({ enum: PERIODS, default: '24h', description: 'The period total_requests and error_rate cover' })
  @IsOptionalNotNull() @IsIn(PERIODS)
  period: MetricPeriod = '24h';
}

export class MetricsSummaryResponse implements MetricsSummary {
  @ApiProperty({ example: 3 }) total_deployments!: number;
  @ApiProperty({ example: 1, description: 'Running now' }) active_deployments!: number;
  @ApiProperty({ example: 1200, description: 'Requests through the proxy over the period' }) total_requests!: number;
  @ApiProperty({ example: 0.0125, description: 'Share of those answered 5xx (or not answered); 0 without requests' }) error_rate!: number;
  @ApiProperty({ enum: PERIODS }) period!: MetricPeriod;
  @ApiProperty({ format: 'date-time', description: 'Where the period starts' }) since!: string;
}

export class LiveSandboxResponse implements LiveSandboxView {
  @ApiProperty({ format: 'uuid' }) deployment_id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ format: 'uuid' }) owner_id!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'The version running' }) version!: number | null;
  @ApiProperty({ description: 'The sandbox\'s process on the host' }) pid!: number;
  @ApiProperty({ description: 'Processes in the sandbox now' }) processes!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'At the last sample; null before the first' }) cpu_percent!: number | null;
  @ApiProperty({ description: 'CPU seconds used since it started' }) cpu_seconds!: number;
  @ApiProperty({ description: 'Resident memory now (shared pages counted per process: errs high)' }) memory_bytes!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Its memory cgroup\'s limit: the owner\'s plan\'s deployment_memory_mb (null where the host has no writable cgroup)' }) memory_limit_bytes!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'The host uid it runs as (null when the service does not run as root)' }) uid!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'Its files on disk at the last sample' }) disk_bytes!: number | null;
  @ApiProperty() uptime_seconds!: number;
  @ApiProperty({ description: 'Through this replica\'s proxy since this replica started' }) requests!: number;
  @ApiProperty({ description: 'Of them, answered 5xx or not answered' }) errors!: number;
}

export class LiveSandboxListResponse implements LiveSandboxList {
  @ApiProperty({ example: 'host:1234', description: 'The replica that answered: each lists the apps it runs' }) replica!: string;
  @ApiProperty({ format: 'uuid', description: 'Its id in the deployments\' leases (kept in DATA_DIR/replica-id): the deployments whose lease it holds run here' }) replica_id!: string;
  @ApiProperty({ type: [LiveSandboxResponse] }) sandboxes!: LiveSandboxResponse[];
}
