import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ApiRequestExample } from '../../../common/http/swagger';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateNested,
} from 'class-validator';

export const MAX_GATEWAY_MESSAGES = 1000;
export const MAX_GATEWAY_CONTENT = 200_000;
const MAX_MODEL = 200;

/** One message of an OpenAI chat request; content as plain text only. */
export class GatewayMessage {
  @ApiProperty({ enum: ['system', 'user', 'assistant'] })
  @IsIn(['system', 'user', 'assistant'])
  role!: 'system' | 'user' | 'assistant';

  @ApiProperty({ maxLength: MAX_GATEWAY_CONTENT, description: 'Plain text (content-part arrays are refused)' })
  @IsString() @MaxLength(MAX_GATEWAY_CONTENT)
  content!: string;
}

export class GatewayStreamOptions {
  @ApiPropertyOptional({ type: Boolean, nullable: true, description: 'A last chunk with usage and no choices' })
  @IsOptional() @IsBoolean()
  include_usage?: boolean | null;
}

/**
 * The part of OpenAI's `POST /v1/chat/completions` body the gateway takes. Like
 * OpenAI, optional fields may be null; a field it does not know is refused
 * (400 invalid_request_error) rather than silently ignored.
 */
@ApiRequestExample({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Reverse a string in Python' }], stream: false })
export class GatewayChatRequest {
  @ApiProperty({ maxLength: MAX_MODEL, example: 'gpt-4o-mini', description: 'A model_name of GET /v1/models' })
  @IsString() @Length(1, MAX_MODEL)
  model!: string;

  @ApiProperty({ type: [GatewayMessage], minItems: 1, maxItems: MAX_GATEWAY_MESSAGES })
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_GATEWAY_MESSAGES)
  @ValidateNested({ each: true }) @Type(() => GatewayMessage)
  messages!: GatewayMessage[];

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, maximum: 2 })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(2)
  temperature?: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, description: 'The reply\'s budget; omitted: the caller\'s AI config\'s, at most half the model\'s context' })
  @IsOptional() @IsInt() @Min(1)
  max_tokens?: number | null;

  @ApiPropertyOptional({ type: Boolean, nullable: true, description: 'true: Server-Sent Events of chat.completion.chunk objects, then `data: [DONE]`' })
  @IsOptional() @IsBoolean()
  stream?: boolean | null;

  @ApiPropertyOptional({ type: GatewayStreamOptions, nullable: true })
  @IsOptional() @IsObject() @ValidateNested() @Type(() => GatewayStreamOptions)
  stream_options?: GatewayStreamOptions | null;

  /** OpenAI's end-user id: accepted, not used. */
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 256, description: 'Accepted, not used' })
  @IsOptional() @IsString() @MaxLength(256)
  user?: string | null;
}

/** OpenAI's error body, which every /v1 error answers with. */
export class OpenAiErrorResponseDetail {
  @ApiProperty({ example: "The model 'gpt-5' does not exist or is not active" }) message!: string;
  @ApiProperty({ example: 'invalid_request_error', description: 'invalid_request_error, authentication_error, permission_error, not_found_error, rate_limit_error, api_error' }) type!: string;
  @ApiProperty({ type: String, nullable: true, example: 'model_not_found' }) code!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'model' }) param!: string | null;
}

export class OpenAiErrorResponse {
  @ApiProperty({ type: OpenAiErrorResponseDetail }) error!: OpenAiErrorResponseDetail;
}

class CompletionMessage {
  @ApiProperty({ enum: ['assistant'] }) role!: 'assistant';
  @ApiProperty() content!: string;
  @ApiProperty({ type: String, nullable: true }) refusal!: null;
}

class CompletionChoice {
  @ApiProperty({ example: 0 }) index!: number;
  @ApiProperty({ type: CompletionMessage }) message!: CompletionMessage;
  @ApiProperty({ type: Object, nullable: true }) logprobs!: null;
  @ApiProperty({ enum: ['stop'] }) finish_reason!: 'stop';
}

class CompletionUsage {
  @ApiProperty() prompt_tokens!: number;
  @ApiProperty() completion_tokens!: number;
  @ApiProperty() total_tokens!: number;
}

/** OpenAI's `chat.completion` object (a streamed answer sends `chat.completion.chunk` objects instead). */
export class ChatCompletionResponse {
  @ApiProperty({ example: 'chatcmpl-5f0c6f7e2a4b4c1e9d7a1b2c3d4e5f60' }) id!: string;
  @ApiProperty({ enum: ['chat.completion'] }) object!: 'chat.completion';
  @ApiProperty({ description: 'Unix seconds' }) created!: number;
  @ApiProperty({ example: 'gpt-4o-mini' }) model!: string;
  @ApiProperty({ type: [CompletionChoice] }) choices!: CompletionChoice[];
  @ApiProperty({ type: CompletionUsage }) usage!: CompletionUsage;
}

class ModelEntry {
  @ApiProperty({ example: 'gpt-4o-mini' }) id!: string;
  @ApiProperty({ enum: ['model'] }) object!: 'model';
  @ApiProperty({ description: 'Unix seconds: when the model entered the catalog' }) created!: number;
  @ApiProperty({ example: 'openai', description: 'The provider_key' }) owned_by!: string;
}

export class OpenAiModelListResponse {
  @ApiProperty({ enum: ['list'] }) object!: 'list';
  @ApiProperty({ type: [ModelEntry] }) data!: ModelEntry[];
}
