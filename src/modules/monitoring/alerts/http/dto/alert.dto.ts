import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, IsUUID, Length, Matches, Max, Min } from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../../common/http/display-text';
import { IsOptionalNotNull } from '../../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../../common/http/swagger';
import {
  ALERT_METRICS, ALERT_OPERATORS, ALERT_RESOLUTIONS, ALERT_STATUSES, AlertMetric, AlertOperator, AlertResolution, AlertRuleInput, AlertStatus,
  MAX_DURATION_S,
} from '../../alert-rule';
import type { AlertJson, AlertRuleJson } from '../../alert.mapper';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const lower = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.toLowerCase() : value);
const FINITE = { allowNaN: false, allowInfinity: false };

const METRIC_DOC =
  'What the rule watches: a sample field as agents push it (cpu_percent, memory_percent, disk_percent: 0–100; network_in_bytes, ' +
  'network_out_bytes: bytes over the sample\'s interval; load_1m), or server_offline (the probes say offline; no operator, no threshold)';
const OPERATOR_DOC = 'How the sample compares with the threshold: gt >, gte >=, lt <, lte <=. Required for sample metrics; absent or null for server_offline';
const THRESHOLD_DOC = 'Percents 0–100, bytes and load from 0; 0 or at least 0.000001. Required for sample metrics; absent or null for server_offline';
const DURATION_DOC =
  'How long the condition must hold before the rule fires, counted on sample timestamps (server_offline: probe times). ' +
  '0: the latest sample alone; otherwise every sample back to one at or before latest − duration_s must satisfy it, so one spike never fires';
const SERVER_DOC = 'One of my servers (404 otherwise); absent or null: all my servers (an admin\'s: the platform\'s local server too)';

@ApiRequestExample({ name: 'CPU hot', metric: 'cpu_percent', operator: 'gt', threshold: 90, duration_s: 300 })
export class CreateAlertRuleRequest implements AlertRuleInput {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, example: 'CPU hot' })
  @IsOptional() @Transform(trim) @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, { message: 'name must be one line of text' })
  name?: string | null;

  @ApiProperty({ enum: ALERT_METRICS, description: METRIC_DOC }) @IsIn(ALERT_METRICS) metric!: AlertMetric;

  @ApiPropertyOptional({ enum: ALERT_OPERATORS, nullable: true, description: OPERATOR_DOC }) @IsOptional() @IsIn(ALERT_OPERATORS) operator?: AlertOperator | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 90, description: THRESHOLD_DOC }) @IsOptional() @IsNumber(FINITE) threshold?: number | null;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_DURATION_S, description: DURATION_DOC })
  @IsOptionalNotNull() @IsInt() @Min(0) @Max(MAX_DURATION_S)
  duration_s?: number;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: SERVER_DOC })
  @IsOptional() @Transform(lower) @IsUUID()
  server_id?: string | null;

  @ApiPropertyOptional({ default: true }) @IsOptionalNotNull() @IsBoolean() enabled?: boolean;
}

/** Every field optional: only those sent change. */
@ApiRequestExample({ threshold: 95, duration_s: 600 })
export class UpdateAlertRuleRequest implements Partial<AlertRuleInput> {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100, description: 'null removes it' })
  @IsOptional() @Transform(trim) @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, { message: 'name must be one line of text' })
  name?: string | null;

  @ApiPropertyOptional({ enum: ALERT_METRICS, description: METRIC_DOC }) @IsOptionalNotNull() @IsIn(ALERT_METRICS) metric?: AlertMetric;

  @ApiPropertyOptional({ enum: ALERT_OPERATORS, nullable: true, description: OPERATOR_DOC }) @IsOptional() @IsIn(ALERT_OPERATORS) operator?: AlertOperator | null;

  @ApiPropertyOptional({ type: Number, nullable: true, description: THRESHOLD_DOC }) @IsOptional() @IsNumber(FINITE) threshold?: number | null;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_DURATION_S, description: DURATION_DOC })
  @IsOptionalNotNull() @IsInt() @Min(0) @Max(MAX_DURATION_S)
  duration_s?: number;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: `${SERVER_DOC}; null: all my servers` })
  @IsOptional() @Transform(lower) @IsUUID()
  server_id?: string | null;

  @ApiPropertyOptional({ description: 'false resolves the rule\'s open alerts and stops evaluating it' }) @IsOptionalNotNull() @IsBoolean() enabled?: boolean;
}

export class AlertRuleResponse implements AlertRuleJson {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, nullable: true }) name!: string | null;
  @ApiProperty({ enum: ALERT_METRICS }) metric!: AlertMetric;
  @ApiProperty({ enum: ALERT_OPERATORS, nullable: true, description: 'null for server_offline' }) operator!: AlertOperator | null;
  @ApiProperty({ type: Number, nullable: true, description: 'null for server_offline' }) threshold!: number | null;
  @ApiProperty({ minimum: 0, maximum: MAX_DURATION_S }) duration_s!: number;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null: all my servers' }) server_id!: string | null;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class AlertRuleListResponse {
  @ApiProperty({ type: [AlertRuleResponse] }) alert_rules!: AlertRuleResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class DeletedAlertRuleResponse {
  @ApiProperty({ example: true }) success!: boolean;
}

export class ListAlertsRequest extends PageQuery {
  @ApiPropertyOptional({ enum: ALERT_STATUSES, description: 'Only open or only resolved alerts; absent: both' })
  @IsOptionalNotNull() @IsIn(ALERT_STATUSES)
  status?: AlertStatus;

  @ApiPropertyOptional({ format: 'uuid', description: 'Only this server\'s alerts' })
  @IsOptionalNotNull() @Transform(lower) @IsUUID()
  server_id?: string;
}

export class AlertResponse implements AlertJson {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'null once the rule was deleted' }) rule_id!: string | null;
  @ApiProperty({ format: 'uuid' }) server_id!: string;
  @ApiProperty({ enum: ALERT_METRICS, description: 'The rule\'s definition when it fired' }) metric!: AlertMetric;
  @ApiProperty({ enum: ALERT_OPERATORS, nullable: true }) operator!: AlertOperator | null;
  @ApiProperty({ type: Number, nullable: true }) threshold!: number | null;
  @ApiProperty() duration_s!: number;
  @ApiProperty({ enum: ALERT_STATUSES }) status!: AlertStatus;
  @ApiProperty({ type: Number, nullable: true, description: 'The latest sample\'s value when it fired (server_offline: seconds offline)' }) value!: number | null;
  @ApiProperty({ example: 'cpu_percent > 90 for 300 s (latest 97.5)' }) message!: string;
  @ApiProperty({ format: 'date-time', description: 'The first sample (or probe) of the window that proved the condition' }) started_at!: string;
  @ApiProperty({ format: 'date-time', description: 'When the evaluation opened it' }) fired_at!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) resolved_at!: string | null;
  @ApiProperty({
    enum: ALERT_RESOLUTIONS,
    nullable: true,
    description: 'Why it was resolved: recovered (the condition stopped holding), rule_changed, rule_disabled, rule_deleted; null while open',
  })
  resolution!: AlertResolution | null;
}

export class AlertListResponse {
  @ApiProperty({ type: [AlertResponse] }) alerts!: AlertResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}
