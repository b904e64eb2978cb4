import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import {
  ArrayMaxSize, IsArray, IsBoolean, IsInt, IsOptional, IsString, IsUUID, Length, Matches, Max, MaxLength, Min, ValidateBy,
} from 'class-validator';
import { MULTI_LINE_TEXT, SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';
import type { ServerChanges } from '../../commands/update-server.command';
import type { ServerInput } from '../../commands/create-server.command';
import { SERVER_STATUSES } from '../../repositories/server.repository';
import type { ServerView } from '../../server.mapper';
import { isServerHost } from '../../server-host';

export const MAX_TAGS = 20;
const MAX_TAG = 50;
const MIN_INTERVAL = 60;
const MAX_INTERVAL = 86_400;

const IsServerHost = (): PropertyDecorator =>
  ValidateBy({
    name: 'isServerHost',
    validator: {
      validate: (value: unknown) => isServerHost(value),
      defaultMessage: () => '$property must be a host name or an IP address (no scheme, port or path)',
    },
  });

const HOST_DOC: ApiPropertyOptions = { example: 'db1.example.com', maxLength: 253, description: 'A DNS name or an IPv4/IPv6 address; not a URL (no scheme, port or path)' };
const TAGS_DOC: ApiPropertyOptions & { description: string } = { type: [String], maxItems: MAX_TAGS, example: ['prod', 'db'], description: `At most ${MAX_TAGS} tags of 1 to ${MAX_TAG} characters (duplicates are dropped)` };
const INTERVAL_DOC: ApiPropertyOptions = {
  type: Number, nullable: true, minimum: MIN_INTERVAL, maximum: MAX_INTERVAL,
  description: 'Seconds between probes; null: MONITOR_PROBE_INTERVAL_SECONDS (60). Probe rounds run every minute, so intervals count in whole minutes',
};

@ApiRequestExample({ name: 'db1', host: 'db1.example.com', port: 5432, tags: ['prod', 'db'], monitored: true })
export class CreateServerRequest implements ServerInput {
  @ApiProperty({ example: 'db1', maxLength: 100 })
  @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, { message: 'name must be one line of text' })
  name!: string;

  @ApiProperty(HOST_DOC)
  @IsServerHost()
  host!: string;

  @ApiProperty({ minimum: 1, maximum: 65535, example: 22, description: 'The TCP port probes connect to' })
  @IsInt() @Min(1) @Max(65535)
  port!: number;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 1000 })
  @IsOptional() @IsString() @MaxLength(1000) @Matches(MULTI_LINE_TEXT, { message: 'description must be text' })
  description?: string | null;

  @ApiPropertyOptional(TAGS_DOC)
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(MAX_TAGS) @IsString({ each: true }) @Length(1, MAX_TAG, { each: true })
  @Matches(SINGLE_LINE_TEXT, { each: true, message: 'each tag must be one line of text' })
  tags?: string[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, example: 'Debian 12' })
  @IsOptional() @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, { message: 'os must be one line of text' })
  os?: string | null;

  @ApiPropertyOptional(INTERVAL_DOC)
  @IsOptional() @IsInt() @Min(MIN_INTERVAL) @Max(MAX_INTERVAL)
  probe_interval_seconds?: number | null;

  @ApiPropertyOptional({ default: false, description: 'true: probed from the next round (as POST /monitor/servers)' })
  @IsOptionalNotNull() @IsBoolean()
  monitored?: boolean;
}

@ApiRequestExample({ description: 'Primary database', tags: ['prod'] })
export class UpdateServerRequest implements ServerChanges {
  @ApiPropertyOptional({ example: 'db1', maxLength: 100 })
  @IsOptionalNotNull() @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, { message: 'name must be one line of text' })
  name?: string;

  @ApiPropertyOptional(HOST_DOC)
  @IsOptionalNotNull() @IsServerHost()
  host?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 65535, example: 22 })
  @IsOptionalNotNull() @IsInt() @Min(1) @Max(65535)
  port?: number;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 1000, description: 'null clears it' })
  @IsOptional() @IsString() @MaxLength(1000) @Matches(MULTI_LINE_TEXT, { message: 'description must be text' })
  description?: string | null;

  @ApiPropertyOptional({ ...TAGS_DOC, description: `${TAGS_DOC.description}; replaces them all` })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(MAX_TAGS) @IsString({ each: true }) @Length(1, MAX_TAG, { each: true })
  @Matches(SINGLE_LINE_TEXT, { each: true, message: 'each tag must be one line of text' })
  tags?: string[];

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, description: 'null clears it' })
  @IsOptional() @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, { message: 'os must be one line of text' })
  os?: string | null;

  @ApiPropertyOptional(INTERVAL_DOC)
  @IsOptional() @IsInt() @Min(MIN_INTERVAL) @Max(MAX_INTERVAL)
  probe_interval_seconds?: number | null;
}

export class ListServersRequest extends PageQuery {}

@ApiRequestExample({ server_id: '0193a0f4-7a31-7cc2-9a55-1c2d3e4f5a6b' })
export class StartMonitoringRequest {
  @ApiProperty({ format: 'uuid', description: 'A server of mine (an admin: any, local included)' })
  @IsString() @IsUUID('all', { message: 'server_id must be a UUID' })
  server_id!: string;
}

export class ServerResponse implements ServerView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() host!: string;
  @ApiProperty() port!: number;
  @ApiProperty({ type: String, nullable: true }) description!: string | null;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ type: String, nullable: true }) os!: string | null;
  @ApiProperty({ enum: SERVER_STATUSES, description: 'unknown: not probed (yet), or not monitored' }) status!: ServerView['status'];
  @ApiProperty({ description: 'Probed by servers.probe' }) monitored!: boolean;
  @ApiProperty({ type: Number, nullable: true, description: 'null: the default (MONITOR_PROBE_INTERVAL_SECONDS)' }) probe_interval_seconds!: number | null;
  @ApiProperty({ type: Number, nullable: true, description: 'The last probe\'s TCP connect time' }) latency_ms!: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the last probe started' }) checked_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the current status was first seen' }) status_since!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When an agent last pushed metrics (or the platform sampled local)' }) last_seen_at!: string | null;
  @ApiProperty({ description: 'The platform\'s own host (admins only)' }) is_local!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class ServerEnvelope {
  @ApiProperty({ type: ServerResponse }) server!: ServerResponse;
}

export class ServerListResponse {
  @ApiProperty({ type: [ServerResponse] }) servers!: ServerResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}
