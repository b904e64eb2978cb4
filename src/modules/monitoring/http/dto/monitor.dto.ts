import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { ApiRequestExample } from '../../../../common/http/swagger';
import { HISTORY_METRICS, HistoryMetric, RANGE_AXES, TIME_RANGES, TimeRange } from '../../history-buckets';
import { MAX_BATCH, MAX_FUTURE_SECONDS } from '../../metric-samples';
import type { PushResult } from '../../commands/push-server-metrics.command';
import type { MonitorStats } from '../../queries/get-monitor-stats.query';
import type { HistoryPoint, ServerHistory } from '../../queries/get-server-history.query';
import type { LatestServerMetrics } from '../../queries/get-server-metrics.query';
import type { ServerStatusView } from '../../queries/get-server-status.query';
import { SERVER_STATUSES } from '../../repositories/server.repository';
import type { SampleView } from '../../server.mapper';

/** One sample, as an agent pushes it and GET /monitor/servers/:id/metrics shows it. */
export class MetricSample implements SampleView {
  @ApiProperty({ format: 'date-time', example: '2025-01-01T12:00:00Z' })
  timestamp!: string;
  @ApiProperty({ minimum: 0, maximum: 100, example: 12.5 }) cpu_percent!: number;
  @ApiProperty({ minimum: 0, maximum: 100, example: 48.1 }) memory_percent!: number;
  @ApiProperty({ minimum: 0, maximum: 100, example: 71 }) disk_percent!: number;
  @ApiProperty({ type: 'integer', minimum: 0, example: 120_000, description: 'Bytes received since the previous sample' }) network_in_bytes!: number;
  @ApiProperty({ type: 'integer', minimum: 0, example: 80_000, description: 'Bytes sent since the previous sample' }) network_out_bytes!: number;
  @ApiProperty({ minimum: 0, example: 0.42 }) load_1m!: number;
}

/** One sample as an agent sends it: its timestamp may be left out. */
export class PushedSample extends OmitType(MetricSample, ['timestamp'] as const) {
  @ApiPropertyOptional({ format: 'date-time', example: '2025-01-01T12:00:00Z', description: `With a zone; at most ${MAX_FUTURE_SECONDS} s ahead of the platform's clock, not older than RETENTION_METRICS_DAYS. Left out: when the push arrives` })
  timestamp?: string;
}

/** The batch form of an agent push (one sample may also be sent bare). */
@ApiRequestExample({ samples: [{ cpu_percent: 12.5, memory_percent: 48.1, disk_percent: 71, network_in_bytes: 120_000, network_out_bytes: 80_000, load_1m: 0.42 }] })
export class PushMetricsRequest {
  @ApiProperty({ type: [PushedSample], minItems: 1, maxItems: MAX_BATCH }) samples!: PushedSample[];
}

export class PushMetricsResponse implements PushResult {
  @ApiProperty({ format: 'uuid' }) server_id!: string;
  @ApiProperty({ example: 500, description: 'Samples stored' }) accepted!: number;
}

export class LatestMetricsResponse implements LatestServerMetrics {
  @ApiProperty({ format: 'uuid' }) server_id!: string;
  @ApiProperty({ type: MetricSample, nullable: true, description: 'The newest sample; null before the first' }) metrics!: MetricSample | null;
}

export class ServerStatusResponse implements ServerStatusView {
  @ApiProperty({ format: 'uuid' }) server_id!: string;
  @ApiProperty({ enum: SERVER_STATUSES }) status!: ServerStatusView['status'];
  @ApiProperty({ type: Number, nullable: true }) latency_ms!: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) checked_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) status_since!: string | null;
  @ApiProperty() monitored!: boolean;
}

const RANGES_DOC = TIME_RANGES.map((range) => `${range}: ${RANGE_AXES[range].points} points of ${RANGE_AXES[range].stepSeconds} s`).join(', ');

/** `GET /monitor/servers/:id/history?time_range=&metric=` */
export class ServerHistoryRequest {
  @ApiPropertyOptional({ enum: TIME_RANGES, default: '1h', description: RANGES_DOC })
  @IsOptionalNotNull() @IsIn(TIME_RANGES)
  time_range: TimeRange = '1h';

  @ApiPropertyOptional({ enum: HISTORY_METRICS, default: 'cpu', description: 'cpu, memory, disk: percent averaged per bucket; network: bytes received plus sent within the bucket' })
  @IsOptionalNotNull() @IsIn(HISTORY_METRICS)
  metric: HistoryMetric = 'cpu';
}

export class HistoryPointResponse implements HistoryPoint {
  @ApiProperty({ format: 'date-time', description: 'The bucket\'s start' }) timestamp!: string;
  @ApiProperty({ type: Number, nullable: true, description: 'null: no sample in this bucket' }) value!: number | null;
}

export class ServerHistoryResponse implements ServerHistory {
  @ApiProperty({ format: 'uuid' }) server_id!: string;
  @ApiProperty({ enum: HISTORY_METRICS }) metric!: HistoryMetric;
  @ApiProperty({ enum: TIME_RANGES }) time_range!: TimeRange;
  @ApiProperty({ type: [HistoryPointResponse], description: 'Oldest first, a fixed number per range, the last holding now' }) data!: HistoryPointResponse[];
}

class ServerCountsResponse {
  @ApiProperty() total!: number;
  @ApiProperty() online!: number;
  @ApiProperty() offline!: number;
}

class DeploymentCountsResponse {
  @ApiProperty() total!: number;
  @ApiProperty({ description: 'Running now' }) running!: number;
}

class ExecutionCountsResponse {
  @ApiProperty({ description: 'Runs created this UTC day' }) today!: number;
}

class RequestCountsResponse {
  @ApiProperty({ description: 'My state-changing requests over the last 24 hours (the audit log)' }) total!: number;
  @ApiProperty({ description: 'Of them, answered 4xx or 5xx' }) errors!: number;
  @ApiProperty({ example: 0.02, description: 'errors / total; 0 without requests' }) error_rate!: number;
  @ApiProperty({ format: 'date-time' }) since!: string;
}

export class MonitorStatsResponse implements MonitorStats {
  @ApiProperty({ type: ServerCountsResponse, description: 'My servers (an admin\'s: with local)' }) servers!: ServerCountsResponse;
  @ApiProperty({ type: DeploymentCountsResponse }) deployments!: DeploymentCountsResponse;
  @ApiProperty({ type: ExecutionCountsResponse }) executions!: ExecutionCountsResponse;
  @ApiProperty({ type: RequestCountsResponse }) requests!: RequestCountsResponse;
}
