import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { IsIP, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { PeriodRequest } from '../../../../common/http/period';
import { AuditLogView } from '../../audit-log.view';

export { PeriodRequest };

export class ProfileLogsRequest extends IntersectionType(PageQuery, PeriodRequest) {
  @ApiPropertyOptional({ example: 'user.login' }) @IsOptional() @IsString() @Length(1, 64) action?: string;
  @ApiPropertyOptional({ example: 'api_key' }) @IsOptional() @IsString() @Length(1, 64) resource_type?: string;
  @ApiPropertyOptional({ description: 'A status code (404) or class (4xx)', example: '4xx' })
  @IsOptional() @Matches(/^([1-5]xx|[1-5][0-9]{2})$/i, { message: 'status must be a status code such as 404 or a class such as 4xx' })
  status?: string;
}

export class AdminLogsRequest extends ProfileLogsRequest {
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() user_id?: string;
  @ApiPropertyOptional({ example: '127.0.0.1' }) @IsOptional() @IsIP() ip?: string;
}

export class AuditLogResponse implements AuditLogView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) user_id!: string | null;
  @ApiProperty({ example: 'api_key.create' }) action!: string;
  @ApiProperty({ type: String, nullable: true, example: 'api_key' }) resource_type!: string | null;
  @ApiProperty({ type: String, nullable: true }) resource_id!: string | null;
  @ApiProperty({ example: 201 }) status_code!: number;
  @ApiProperty({ example: 'POST' }) method!: string;
  @ApiProperty({ example: '/api/v1/api-keys' }) path!: string;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ type: String, nullable: true }) user_agent!: string | null;
  @ApiProperty({ type: String, nullable: true }) request_id!: string | null;
  @ApiProperty({ type: Number, nullable: true }) duration_ms!: number | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: Record<string, unknown>;
}

export class AuditLogListResponse {
  @ApiProperty({ type: [AuditLogResponse] }) logs!: AuditLogResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

class ActionCount {
  @ApiProperty() action!: string;
  @ApiProperty() count!: number;
}

class DayCount {
  @ApiProperty({ example: '2026-11-22' }) day!: string;
  @ApiProperty() count!: number;
  @ApiProperty() errors!: number;
}

class UserCount {
  @ApiProperty({ type: String, nullable: true }) user_id!: string | null;
  @ApiProperty() count!: number;
}

export class AuditLogStatsResponse {
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) to!: string;
  @ApiProperty() total!: number;
  @ApiProperty({ description: 'Entries with status >= 400' }) errors!: number;
  @ApiProperty({ description: 'errors / total, 0..1' }) error_rate!: number;
  @ApiProperty({ type: [ActionCount] }) by_action!: ActionCount[];
  @ApiProperty({ type: [DayCount] }) by_day!: DayCount[];
  @ApiProperty({ type: [UserCount], description: 'Top 20' }) by_user!: UserCount[];
}

export class ActionListResponse {
  @ApiProperty({ type: [String] }) actions!: string[];
}

export class ResourceTypeListResponse {
  @ApiProperty({ type: [String] }) resource_types!: string[];
}
