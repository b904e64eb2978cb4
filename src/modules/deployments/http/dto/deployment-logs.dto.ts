import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsString, Max, MaxLength, Min, ValidateBy } from 'class-validator';
import { IsDateInRange, IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { DeploymentLogPage, DeploymentLogView, LOG_LEVELS, LOG_SOURCES, LogLevel, LogSource } from '../../logs/deployment-log';
import { MAX_CURSOR_LENGTH } from '../../logs/log-cursor';
import type { DeploymentLogFilters } from '../../queries/list-deployment-logs.query';

export const MAX_LOG_LIMIT = 1000;

/** end_time, when both are given, is not before start_time (an empty range is a mistake, not a page). */
const IsNotBeforeStartTime = (): PropertyDecorator =>
  ValidateBy({
    name: 'isNotBeforeStartTime',
    validator: {
      validate: (value: unknown, args) => {
        const start = (args?.object as { start_time?: unknown }).start_time;
        return !(value instanceof Date && start instanceof Date) || value.getTime() >= start.getTime();
      },
      defaultMessage: () => '$property must not be before start_time',
    },
  });

/** `GET /deployments/:id/logs?level=&start_time=&end_time=&limit=&cursor=` */
export class DeploymentLogsRequest implements DeploymentLogFilters {
  @ApiPropertyOptional({ enum: LOG_LEVELS, description: 'This level or a more severe one (debug < info < warn < error)' })
  @IsOptionalNotNull() @IsIn(LOG_LEVELS)
  level?: LogLevel;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Lines at or after this time' })
  @IsOptionalNotNull() @Type(() => Date) @IsDateInRange()
  start_time?: Date;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Lines at or before this time; not before start_time' })
  @IsOptionalNotNull() @Type(() => Date) @IsDateInRange() @IsNotBeforeStartTime()
  end_time?: Date;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: MAX_LOG_LIMIT })
  @IsOptionalNotNull() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_LOG_LIMIT)
  limit: number = 100;

  @ApiPropertyOptional({ maxLength: MAX_CURSOR_LENGTH, description: 'The previous page\'s next_cursor, sent with the same filters' })
  @IsOptionalNotNull() @IsString() @MaxLength(MAX_CURSOR_LENGTH)
  cursor?: string;
}

export class DeploymentLogResponse implements DeploymentLogView {
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
  @ApiProperty({ enum: LOG_LEVELS, example: 'info' }) level!: LogLevel;
  @ApiProperty({ enum: LOG_SOURCES, example: 'stdout', description: 'stdout and stderr: the app\'s output; platform: status changes, builds, crashes, health checks, dropped lines' })
  source!: LogSource;
  @ApiProperty({ example: 'listening on 8080', description: 'At most 16 KB of UTF-8' }) message!: string;
  @ApiProperty({ description: 'The line was longer than 16 KB and was cut' }) truncated!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
}

export class DeploymentLogListResponse implements DeploymentLogPage {
  @ApiProperty({ type: [DeploymentLogResponse], description: 'Newest first' }) logs!: DeploymentLogResponse[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next (older) page; null after the last' }) next_cursor!: string | null;
}
