import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { JobRunView } from '../../job-runner';

export class JobRunResponse implements JobRunView {
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) id!: string | null;
  @ApiProperty() job_name!: string;
  @ApiProperty({ enum: ['schedule', 'startup', 'manual'] }) trigger!: 'schedule' | 'startup' | 'manual';
  @ApiProperty({ enum: ['succeeded', 'failed', 'skipped'] }) status!: 'succeeded' | 'failed' | 'skipped';
  @ApiPropertyOptional({ enum: ['running_elsewhere', 'already_ran'] }) skipped_reason?: 'running_elsewhere' | 'already_ran';
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) scheduled_for!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) started_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finished_at!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true, nullable: true }) output!: Record<string, unknown> | null;
  @ApiProperty({ type: String, nullable: true }) error!: string | null;
}

export class MaintenanceJobResponse {
  @ApiProperty({ example: 'partitions.maintain' }) name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ example: '0 * * * *', description: 'Cron, UTC' }) schedule!: string;
  @ApiProperty({ type: JobRunResponse, nullable: true }) last_run!: JobRunResponse | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'null when the scheduler is off' }) next_run_at!: string | null;
}

export class MaintenanceJobListResponse {
  @ApiProperty({ type: [MaintenanceJobResponse] }) jobs!: MaintenanceJobResponse[];
}
