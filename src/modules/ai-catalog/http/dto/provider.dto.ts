import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { ProviderHealthView } from '../../provider-health';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { ApiRequestExample } from '../../../../common/http/swagger';
import { PROVIDER_KEY } from '../../catalog-names';
import type { ProviderInput } from '../../commands/create-provider.command';
import type { ProviderChanges } from '../../commands/update-provider.command';
import { API_STYLES, ApiStyle } from '../../entities/ai-provider.entity';

export const MAX_SORT_ORDER = 1_000_000;
const MAX_URL = 2048;
const MAX_API_KEY = 1024;

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

// A local server (Ollama, vLLM) is often reached by an IP address or a name without a TLD.
const BASE_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false };
const BASE_URL_MESSAGE = { message: 'default_base_url must be an absolute http or https URL' };
/** Keys travel in an HTTP header: printable ASCII, no spaces. */
const API_KEY = /^[\x21-\x7e]+$/;
const API_KEY_MESSAGE = { message: 'api_key must be printable ASCII characters without spaces' };
const ONE_LINE = { message: 'display_name cannot hold control characters or line breaks' };

@ApiRequestExample({ provider_key: 'my-vllm', display_name: 'My vLLM server', default_base_url: 'http://10.0.0.5:8000/v1', api_style: 'openai', sort_order: 80 })
export class CreateProviderRequest implements ProviderInput {
  @ApiProperty({ example: 'my-vllm', maxLength: 32, description: 'Lowercase letters, digits, - and _, starting with a letter; unique, and never changes' })
  @IsString() @Matches(PROVIDER_KEY, { message: 'provider_key must be lowercase letters, digits, - or _, starting with a letter, at most 32 characters' })
  provider_key!: string;

  @ApiProperty({ example: 'My vLLM server', maxLength: 100 }) @Transform(trim) @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, ONE_LINE) display_name!: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_URL, example: 'http://10.0.0.5:8000/v1', description: 'An absolute http or https URL' })
  @IsOptional() @IsString() @MaxLength(MAX_URL) @IsUrl(BASE_URL, BASE_URL_MESSAGE)
  default_base_url?: string | null;

  @ApiProperty({ enum: API_STYLES, description: '`openai`: any OpenAI-compatible API; `anthropic`: Anthropic\'s Messages API' }) @IsIn(API_STYLES) api_style!: ApiStyle;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_API_KEY, writeOnly: true, description: 'The platform\'s own key for this provider; stored encrypted, shown only masked' })
  @IsOptional() @IsString() @Length(1, MAX_API_KEY) @Matches(API_KEY, API_KEY_MESSAGE)
  api_key?: string | null;

  @ApiPropertyOptional({ default: true }) @IsOptionalNotNull() @IsBoolean() is_active?: boolean;
  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_SORT_ORDER }) @IsOptionalNotNull() @IsInt() @Min(0) @Max(MAX_SORT_ORDER) sort_order?: number;
}

/** The fields given change; `default_base_url: null` and `api_key: null` remove them. The provider_key cannot change. */
@ApiRequestExample({ display_name: 'OpenAI (platform key)', sort_order: 5 })
export class UpdateProviderRequest implements ProviderChanges {
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, ONE_LINE) display_name?: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_URL, description: 'An absolute http or https URL; null removes it' })
  @IsOptional() @IsString() @MaxLength(MAX_URL) @IsUrl(BASE_URL, BASE_URL_MESSAGE)
  default_base_url?: string | null;

  @ApiPropertyOptional({ enum: API_STYLES }) @IsOptionalNotNull() @IsIn(API_STYLES) api_style?: ApiStyle;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_API_KEY, writeOnly: true, description: 'A new platform key (stored encrypted); null removes it, "" is refused' })
  @IsOptional() @IsString() @Length(1, MAX_API_KEY) @Matches(API_KEY, API_KEY_MESSAGE)
  api_key?: string | null;

  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() is_active?: boolean;
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_SORT_ORDER }) @IsOptionalNotNull() @IsInt() @Min(0) @Max(MAX_SORT_ORDER) sort_order?: number;
}

export class ProviderHealthResponse implements ProviderHealthView {
  @ApiProperty({ enum: ['healthy', 'failing', 'cooldown'], description: '`failing`: its last calls failed, fewer than AI_FAILOVER_THRESHOLD; `cooldown`: calls go to the model\'s next provider until cooldown_until' })
  status!: 'healthy' | 'failing' | 'cooldown';
  @ApiProperty({ description: 'Failed calls in a row (5xx, timeouts, broken replies)' }) consecutive_failures!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) cooldown_until!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'HTTP 503: overloaded' }) last_error!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_failure_at!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_success_at!: string | null;
}

export class ProviderResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'openai' }) provider_key!: string;
  @ApiProperty({ example: 'OpenAI' }) display_name!: string;
  @ApiProperty({ type: String, nullable: true, example: 'https://api.openai.com/v1' }) default_base_url!: string | null;
  @ApiProperty({ enum: API_STYLES }) api_style!: string;
  @ApiProperty({ description: 'Whether the platform holds a key of its own for this provider' }) has_platform_key!: boolean;
  @ApiProperty({ type: String, nullable: true, example: 'sk-…abcd', description: 'The platform key, masked; null without one. The key itself is never shown' }) api_key_masked!: string | null;
  @ApiProperty() is_active!: boolean;
  @ApiProperty() sort_order!: number;
  @ApiProperty({ type: ProviderHealthResponse, description: 'Its calls\' health as this server has seen them since it started (each replica keeps its own)' })
  health!: ProviderHealthResponse;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class ProviderListResponse {
  @ApiProperty({ type: [ProviderResponse] }) providers!: ProviderResponse[];
}

export class DeletedResponse {
  @ApiProperty({ example: true }) success!: boolean;
}
