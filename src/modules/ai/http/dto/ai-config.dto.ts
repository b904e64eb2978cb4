import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsInt, IsNumber, IsOptional, IsString, IsUrl, Length, Matches, Max, MaxLength, Min } from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';
import { AiConfigInput, DEFAULT_MAX_TOKENS, DEFAULT_TEMPERATURE } from '../../commands/create-ai-config.command';

const MAX_NAME = 100;
const MAX_MODEL = 100;
const MAX_URL = 2048;
/** Longer than any provider's key today (Anthropic's are about 110 characters), short enough to stay a key. */
const MAX_API_KEY = 1024;
const MAX_TOKENS = 1_000_000;

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const oneLine = (field: string) => ({ message: `${field} cannot hold control characters or line breaks` });

/** A catalog provider_key: lowercase letters, digits, `_` and `-` (whether the catalog has it is checked by the handler). */
const PROVIDER_KEY = /^[a-z][a-z0-9_-]*$/;
const providerKeyMessage = { message: 'provider must be a provider key such as openai, anthropic or ollama' };

/**
 * Self-hosted model servers often have no public domain name (http://ollama:11434),
 * so no TLD is required. Credentials in the URL are refused: the URL is stored and
 * shown in the clear, the key belongs in api_key.
 */
const BASE_URL = { protocols: ['http', 'https'], require_protocol: true, require_tld: false, disallow_auth: true };
const baseUrlMessage = { message: 'base_url must be an http or https URL, without user name or password' };

const baseUrlDoc = {
  type: String,
  nullable: true,
  maxLength: MAX_URL,
  example: 'http://localhost:11434/v1',
  description:
    'An http or https URL; null: the provider\'s default. Loopback and private addresses are allowed; link-local and cloud metadata ' +
    'hosts (169.254.0.0/16, fe80::/10, metadata.google.internal, 100.100.100.200, fd00:ec2::254) are refused, also when a host name resolves to them',
} as const;

@ApiRequestExample({ name: 'Local Llama', provider: 'ollama', base_url: 'http://localhost:11434/v1', model: 'llama3.2', temperature: 0.7, max_tokens: 2048 })
export class CreateAiConfigRequest implements AiConfigInput {
  @ApiProperty({ example: 'Local Llama', maxLength: MAX_NAME, description: 'Unique among your AI configs' })
  @Transform(trim) @IsString() @Length(1, MAX_NAME) @Matches(SINGLE_LINE_TEXT, oneLine('name'))
  name!: string;

  @ApiProperty({ example: 'ollama', maxLength: 32, description: 'The provider_key of one of the catalog\'s active providers' })
  @IsString() @Length(1, 32) @Matches(PROVIDER_KEY, providerKeyMessage)
  provider!: string;

  @ApiPropertyOptional(baseUrlDoc)
  @IsOptional() @Transform(trim) @IsString() @MaxLength(MAX_URL) @IsUrl(BASE_URL, baseUrlMessage)
  base_url?: string | null;

  @ApiPropertyOptional({
    type: String, nullable: true, maxLength: MAX_API_KEY, example: 'sk-proj-0123456789abcdef',
    description: 'Stored encrypted and never returned (api_key_masked shows its last 4 characters); null or left out: no key (ollama needs none)',
  })
  @IsOptional() @Transform(trim) @IsString() @Length(1, MAX_API_KEY) @Matches(SINGLE_LINE_TEXT, oneLine('api_key'))
  api_key?: string | null;

  @ApiProperty({ example: 'llama3.2', maxLength: MAX_MODEL, description: 'The model name, as the provider spells it' })
  @Transform(trim) @IsString() @Length(1, MAX_MODEL) @Matches(SINGLE_LINE_TEXT, oneLine('model'))
  model!: string;

  @ApiPropertyOptional({ default: DEFAULT_TEMPERATURE, minimum: 0, maximum: 2 })
  @IsOptionalNotNull() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(2)
  temperature?: number;

  @ApiPropertyOptional({ default: DEFAULT_MAX_TOKENS, minimum: 1, maximum: MAX_TOKENS })
  @IsOptionalNotNull() @IsInt() @Min(1) @Max(MAX_TOKENS)
  max_tokens?: number;

  @ApiPropertyOptional({ default: true, description: 'Active: the config used for its provider; activating it deactivates my other config of that provider' })
  @IsOptionalNotNull() @IsBoolean()
  is_active?: boolean;
}

/** Every field optional: only those sent change; null is refused, except `base_url: null` and `api_key: null`, which remove them. */
@ApiRequestExample({ temperature: 0.2 })
export class UpdateAiConfigRequest implements Partial<AiConfigInput> {
  @ApiPropertyOptional({ maxLength: MAX_NAME })
  @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, MAX_NAME) @Matches(SINGLE_LINE_TEXT, oneLine('name'))
  name?: string;

  @ApiPropertyOptional({ maxLength: 32, description: 'The provider_key of one of the catalog\'s active providers' })
  @IsOptionalNotNull() @IsString() @Length(1, 32) @Matches(PROVIDER_KEY, providerKeyMessage)
  provider?: string;

  @ApiPropertyOptional({ ...baseUrlDoc, description: `${baseUrlDoc.description}; null removes it` })
  @IsOptional() @Transform(trim) @IsString() @MaxLength(MAX_URL) @IsUrl(BASE_URL, baseUrlMessage)
  base_url?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_API_KEY, description: 'Replaces the key; null removes it' })
  @IsOptional() @Transform(trim) @IsString() @Length(1, MAX_API_KEY) @Matches(SINGLE_LINE_TEXT, oneLine('api_key'))
  api_key?: string | null;

  @ApiPropertyOptional({ maxLength: MAX_MODEL })
  @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, MAX_MODEL) @Matches(SINGLE_LINE_TEXT, oneLine('model'))
  model?: string;

  @ApiPropertyOptional({ minimum: 0, maximum: 2 })
  @IsOptionalNotNull() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(2)
  temperature?: number;

  @ApiPropertyOptional({ minimum: 1, maximum: MAX_TOKENS })
  @IsOptionalNotNull() @IsInt() @Min(1) @Max(MAX_TOKENS)
  max_tokens?: number;

  @ApiPropertyOptional({ description: 'true deactivates my other config of its provider' })
  @IsOptionalNotNull() @IsBoolean()
  is_active?: boolean;
}

export class ListAiConfigsRequest extends PageQuery {
  @ApiPropertyOptional({ example: 'openai', maxLength: 32, description: 'Only configs of this provider' })
  @IsOptionalNotNull() @IsString() @Length(1, 32) @Matches(PROVIDER_KEY, providerKeyMessage)
  provider?: string;
}

export class AiConfigResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ example: 'ollama' }) provider!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null: the provider\'s default' }) base_url!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'sk-…abcd', description: 'The key\'s kind and last 4 characters; null: no key' }) api_key_masked!: string | null;
  @ApiProperty() model!: string;
  @ApiProperty() temperature!: number;
  @ApiProperty() max_tokens!: number;
  @ApiProperty({ description: 'The config used for its provider (at most one of mine per provider)' }) is_active!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class AiConfigListResponse {
  @ApiProperty({ type: [AiConfigResponse] }) ai_configs!: AiConfigResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class DeletedResponse {
  @ApiProperty({ example: true }) success!: boolean;
}
