import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, ArrayUnique, IsBoolean, IsIn, IsInt, IsString, IsUUID, Length, Matches, Max, MaxLength, Min, ValidateBy, ValidationOptions,
} from 'class-validator';
import { MULTI_LINE_TEXT, SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsArrayOfObjects, IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';
import { MODEL_NAME, PROVIDER_KEY } from '../../catalog-names';
import type { ModelInput } from '../../commands/create-model.command';
import type { ModelOrderInput } from '../../commands/reorder-models.command';
import type { ModelChanges } from '../../commands/update-model.command';
import { MODEL_TYPES, ModelType } from '../../entities/ai-model.entity';
import { MAX_SORT_ORDER } from './provider.dto';

const MAX_CONTEXT = 10_000_000;
/** What numeric(12, 6) holds. */
const MAX_PRICE = 999_999;
const MAX_DESCRIPTION = 2000;
export const MAX_ORDER_ITEMS = 500;

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

/**
 * A price in USD per 1,000 tokens: a finite number from 0 to MAX_PRICE with at
 * most six decimals. Checked by rounding rather than by the digits after the
 * point, which a number such as 1e-7 does not show.
 */
const IsPrice = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isPrice',
      validator: {
        validate: (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_PRICE && Number(value.toFixed(6)) === value,
        defaultMessage: () => `$property must be a number from 0 to ${MAX_PRICE} with at most 6 decimals`,
      },
    },
    options,
  );

const PROVIDER_MESSAGE = { message: 'provider must be a provider_key: lowercase letters, digits, - or _' };
const MODEL_NAME_MESSAGE = { message: 'model_name must be letters, digits and . _ : / @ + -, starting with a letter or digit' };
const ONE_LINE = { message: 'display_name cannot hold control characters or line breaks' };
const DESCRIPTION_TEXT = { message: 'description cannot hold control characters other than tabs and line breaks' };

@ApiRequestExample({
  model_name: 'qwen2.5-coder:7b', display_name: 'Qwen2.5 Coder 7B (Ollama)', provider: 'ollama', max_tokens: 32768, supports_function_calling: true, sort_order: 130,
})
export class CreateModelRequest implements ModelInput {
  @ApiProperty({ example: 'gpt-4o', maxLength: 200, description: 'As the provider\'s API names it; unique per provider' })
  @IsString() @Matches(MODEL_NAME, MODEL_NAME_MESSAGE)
  model_name!: string;

  @ApiProperty({ example: 'GPT-4o', maxLength: 100 }) @Transform(trim) @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, ONE_LINE) display_name!: string;
  @ApiProperty({ example: 'openai', description: 'The provider_key of an existing provider' }) @IsString() @Matches(PROVIDER_KEY, PROVIDER_MESSAGE) provider!: string;
  @ApiPropertyOptional({ enum: MODEL_TYPES, default: 'chat' }) @IsOptionalNotNull() @IsIn(MODEL_TYPES) model_type?: ModelType;
  @ApiProperty({ example: 128000, minimum: 1, maximum: MAX_CONTEXT, description: 'The model\'s context size, in tokens' }) @IsInt() @Min(1) @Max(MAX_CONTEXT) max_tokens!: number;
  @ApiPropertyOptional({ default: true }) @IsOptionalNotNull() @IsBoolean() supports_streaming?: boolean;
  @ApiPropertyOptional({ default: false }) @IsOptionalNotNull() @IsBoolean() supports_function_calling?: boolean;
  @ApiPropertyOptional({ default: false }) @IsOptionalNotNull() @IsBoolean() supports_vision?: boolean;
  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_PRICE, example: 0.0025, description: 'USD per 1,000 input tokens, at most 6 decimals' }) @IsOptionalNotNull() @IsPrice() input_price_per_1k?: number;
  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_PRICE, example: 0.01, description: 'USD per 1,000 output tokens, at most 6 decimals' }) @IsOptionalNotNull() @IsPrice() output_price_per_1k?: number;
  @ApiPropertyOptional({ default: '', maxLength: MAX_DESCRIPTION }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_DESCRIPTION) @Matches(MULTI_LINE_TEXT, DESCRIPTION_TEXT) description?: string;
  @ApiPropertyOptional({ default: true }) @IsOptionalNotNull() @IsBoolean() is_active?: boolean;
  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_SORT_ORDER }) @IsOptionalNotNull() @IsInt() @Min(0) @Max(MAX_SORT_ORDER) sort_order?: number;
}

/** The fields given change; none may be null. */
@ApiRequestExample({ input_price_per_1k: 0.002, output_price_per_1k: 0.008 })
export class UpdateModelRequest implements ModelChanges {
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptionalNotNull() @IsString() @Matches(MODEL_NAME, MODEL_NAME_MESSAGE) model_name?: string;
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, 100) @Matches(SINGLE_LINE_TEXT, ONE_LINE) display_name?: string;
  @ApiPropertyOptional({ description: 'The provider_key of an existing provider' }) @IsOptionalNotNull() @IsString() @Matches(PROVIDER_KEY, PROVIDER_MESSAGE) provider?: string;
  @ApiPropertyOptional({ enum: MODEL_TYPES }) @IsOptionalNotNull() @IsIn(MODEL_TYPES) model_type?: ModelType;
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_CONTEXT }) @IsOptionalNotNull() @IsInt() @Min(1) @Max(MAX_CONTEXT) max_tokens?: number;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() supports_streaming?: boolean;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() supports_function_calling?: boolean;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() supports_vision?: boolean;
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_PRICE }) @IsOptionalNotNull() @IsPrice() input_price_per_1k?: number;
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_PRICE }) @IsOptionalNotNull() @IsPrice() output_price_per_1k?: number;
  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_DESCRIPTION) @Matches(MULTI_LINE_TEXT, DESCRIPTION_TEXT) description?: string;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() is_active?: boolean;
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_SORT_ORDER }) @IsOptionalNotNull() @IsInt() @Min(0) @Max(MAX_SORT_ORDER) sort_order?: number;
}

export class ListModelsRequest extends PageQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], default: 'true', description: 'false: inactive models too' })
  @IsOptionalNotNull() @IsIn(['true', 'false'])
  active_only?: 'true' | 'false';

  @ApiPropertyOptional({ example: 'openai', description: 'Only this provider\'s models (a provider_key)' })
  @IsOptionalNotNull() @IsString() @Matches(PROVIDER_KEY, PROVIDER_MESSAGE)
  provider?: string;

  @ApiPropertyOptional({ enum: MODEL_TYPES }) @IsOptionalNotNull() @IsIn(MODEL_TYPES) type?: ModelType;
}

export class ModelOrderItem implements ModelOrderInput {
  @ApiProperty({ format: 'uuid' }) @IsUUID() id!: string;
  @ApiProperty({ minimum: 0, maximum: MAX_SORT_ORDER }) @IsInt() @Min(0) @Max(MAX_SORT_ORDER) sort_order!: number;
}

/** The item's id as compared for uniqueness (UUIDs in any case); anything else as it is, left to the item's own checks. */
const idOf = (item: unknown): unknown => {
  const id = (item as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? id.toLowerCase() : id;
};

/** gpt-4o as seeded (migration 1764600000000-AiCatalog): the example names a model every installation has. */
const SEEDED_GPT_4O = '01938000-0000-7000-8001-000000000001';

@ApiRequestExample({ items: [{ id: SEEDED_GPT_4O, sort_order: 10 }] })
export class BatchUpdateModelOrderRequest {
  @ApiProperty({ type: [ModelOrderItem], minItems: 1, maxItems: MAX_ORDER_ITEMS, description: 'Each model at most once' })
  @IsArrayOfObjects(() => ModelOrderItem) @ArrayMinSize(1) @ArrayMaxSize(MAX_ORDER_ITEMS) @ArrayUnique(idOf, { message: 'items must name each id at most once' })
  items!: ModelOrderItem[];
}

export class BatchUpdateModelOrderResponse {
  @ApiProperty({ example: 1, description: 'How many models were given their sort_order' }) updated!: number;
}

export class ModelResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'gpt-4o' }) model_name!: string;
  @ApiProperty({ example: 'GPT-4o' }) display_name!: string;
  @ApiProperty({ example: 'openai', description: 'The provider\'s provider_key' }) provider!: string;
  @ApiProperty({ enum: MODEL_TYPES }) model_type!: string;
  @ApiProperty({ example: 128000, description: 'The model\'s context size, in tokens' }) max_tokens!: number;
  @ApiProperty() supports_streaming!: boolean;
  @ApiProperty() supports_function_calling!: boolean;
  @ApiProperty() supports_vision!: boolean;
  @ApiProperty({ example: 0.0025, description: 'USD per 1,000 input tokens' }) input_price_per_1k!: number;
  @ApiProperty({ example: 0.01, description: 'USD per 1,000 output tokens' }) output_price_per_1k!: number;
  @ApiProperty() description!: string;
  @ApiProperty() is_active!: boolean;
  @ApiProperty() sort_order!: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class ModelListResponse {
  @ApiProperty({ type: [ModelResponse] }) models!: ModelResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}
