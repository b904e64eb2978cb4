import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Length, Max, Min } from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PlanLimits } from '../../plan-limits';
import { ApiRequestExample } from '../../../../common/http/swagger';

const unlimited = 'null means unlimited';

export class PlanResponse implements PlanLimits {
  @ApiProperty({ example: 'free' }) id!: string;
  @ApiProperty({ example: 'Free' }) name!: string;
  @ApiProperty({ example: 5 }) execution_timeout_seconds!: number;
  @ApiProperty({ example: 128 }) execution_memory_mb!: number;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) executions_per_day!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) api_executions_per_day!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) max_api_keys!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) max_environments!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) max_concurrent_executions!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) deployments_per_day!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) max_running_deployments!: number | null;
  @ApiProperty({ example: 256, description: 'Memory of one deployed app (its whole process tree), in MB' }) deployment_memory_mb!: number;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) storage_bytes!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) max_upload_bytes!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) requests_per_minute!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: unlimited }) requests_per_hour!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: `AI requests per UTC day; ${unlimited}` }) ai_requests_per_day!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: `AI tokens (prompt + completion) per UTC month; ${unlimited}` }) ai_tokens_per_month!: number | null;
}

export class PlanListResponse {
  @ApiProperty({ type: [PlanResponse] }) plans!: PlanResponse[];
}

/** Each limit: a positive integer, or null for unlimited; omitted fields stay. */
function Limit(max = 2 ** 31 - 1): PropertyDecorator {
  return (target: object, key: string | symbol) => {
    ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: max })(target, key);
    IsOptional()(target, key);
    IsInt()(target, key);
    Min(0)(target, key);
    Max(max)(target, key);
  };
}

@ApiRequestExample({ executions_per_day: 500 })
export class UpdatePlanRequest {
  // These four cannot be unlimited, so null is rejected rather than skipped.
  @ApiPropertyOptional() @IsOptionalNotNull() @IsString() @Length(1, 50) name?: string;
  @ApiPropertyOptional({ minimum: 1, maximum: 3600 }) @IsOptionalNotNull() @IsInt() @Min(1) @Max(3600) execution_timeout_seconds?: number;
  @ApiPropertyOptional({ minimum: 16, maximum: 65536 }) @IsOptionalNotNull() @IsInt() @Min(16) @Max(65536) execution_memory_mb?: number;
  @Limit() executions_per_day?: number | null;
  @Limit() api_executions_per_day?: number | null;
  @Limit() max_api_keys?: number | null;
  @Limit() max_environments?: number | null;
  @Limit() max_concurrent_executions?: number | null;
  @Limit() deployments_per_day?: number | null;
  @Limit() max_running_deployments?: number | null;
  @ApiPropertyOptional({ minimum: 16, maximum: 65536 }) @IsOptionalNotNull() @IsInt() @Min(16) @Max(65536) deployment_memory_mb?: number;
  @Limit(Number.MAX_SAFE_INTEGER) storage_bytes?: number | null;
  @Limit(Number.MAX_SAFE_INTEGER) max_upload_bytes?: number | null;
  @Limit() requests_per_minute?: number | null;
  @Limit() requests_per_hour?: number | null;
  @Limit() ai_requests_per_day?: number | null;
  @Limit() ai_tokens_per_month?: number | null;
}
