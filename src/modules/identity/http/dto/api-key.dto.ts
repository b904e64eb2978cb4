import { ApiProperty, ApiPropertyOptional, ApiPropertyOptions } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsDateInRange, IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { Pagination } from '../../../../common/http/pagination';
import { API_KEY_SCOPES, ApiKeyView } from '../../api-key.mapper';
import { ApiRequestExample } from '../../../../common/http/swagger';

/** Most model names an API key's allow-list holds. */
export const MAX_KEY_MODELS = 100;
/** The largest monthly token budget accepted (a PostgreSQL bigint would hold more; no real budget comes near). */
export const MAX_TOKEN_BUDGET = 1_000_000_000_000;

const BUDGET_DOC: ApiPropertyOptions = {
  type: Number, nullable: true, minimum: 1, maximum: MAX_TOKEN_BUDGET, example: 2_000_000,
  description: 'AI tokens (prompt + completion) calls made with this key may spend per UTC month; when spent, AI calls with it answer 429 QUOTA_EXCEEDED. null or omitted: no budget of its own (the plan\'s limits still apply)',
};
const MODELS_DOC: ApiPropertyOptions = {
  type: String, isArray: true, nullable: true, maxItems: MAX_KEY_MODELS, example: ['gpt-4o-mini'],
  description: 'The model names (as in GET /models) this key may call; another model answers 403. null or omitted: every model',
};

/** Validation of a key's AI limits, shared by create and update (null clears). */
class ApiKeyAiLimitsFields {
  @ApiPropertyOptional(BUDGET_DOC)
  @IsOptional() @IsInt() @Min(1) @Max(MAX_TOKEN_BUDGET)
  ai_token_budget?: number | null;

  @ApiPropertyOptional(MODELS_DOC)
  @IsOptional() @IsArray() @ArrayMaxSize(MAX_KEY_MODELS) @IsString({ each: true }) @Length(1, 200, { each: true })
  @Matches(SINGLE_LINE_TEXT, { each: true, message: 'each model name must be one line of text' })
  ai_models?: string[] | null;
}

@ApiRequestExample({ name: 'CI runner', scopes: ['execute'] })
export class CreateApiKeyRequest extends ApiKeyAiLimitsFields {
  @ApiProperty({ example: 'CI runner' }) @IsString() @Length(1, 100) name!: string;

  @ApiPropertyOptional({ enum: API_KEY_SCOPES, isArray: true, default: ['execute'] })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(API_KEY_SCOPES.length) @IsIn(API_KEY_SCOPES, { each: true })
  scopes?: string[];

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Never expires when omitted' })
  @IsOptionalNotNull() @Type(() => Date) @IsDateInRange()
  expires_at?: Date;
}

@ApiRequestExample({ ai_token_budget: 500000, ai_models: ['gpt-4o-mini'] })
export class UpdateApiKeyRequest extends ApiKeyAiLimitsFields {
  @ApiPropertyOptional({ example: 'CI runner' }) @IsOptionalNotNull() @IsString() @Length(1, 100) name?: string;
}

@ApiRequestExample({ enabled: false })
export class ToggleApiKeyRequest {
  @ApiPropertyOptional({ description: 'The state to set; omitted, the key flips' }) @IsOptionalNotNull() @IsBoolean() enabled?: boolean;
}

export class ApiKeyResponse implements ApiKeyView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'sk-AbCd…wXyZ', description: 'For recognising the key; not the key' }) prefix!: string;
  @ApiProperty({ enum: API_KEY_SCOPES, isArray: true }) scopes!: string[];
  @ApiProperty() enabled!: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expires_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_used_at!: string | null;
  @ApiProperty() usage_count!: number;
  @ApiProperty(BUDGET_DOC) ai_token_budget!: number | null;
  @ApiProperty(MODELS_DOC) ai_models!: string[] | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({ description: 'The key itself. Shown this once; store it now.', example: 'sk-…' }) key!: string;
}

export class ApiKeyListResponse {
  @ApiProperty({ type: [ApiKeyResponse] }) api_keys!: ApiKeyResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}
