import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Max, MaxLength, Min, ValidateNested,
} from 'class-validator';

export const MAX_GATEWAY_MESSAGES = 1000;
export const MAX_GATEWAY_CONTENT = 200_000;
const MAX_MODEL = 200;

/** One message of an OpenAI chat request; content as plain text only. */
export class GatewayMessage {
  @IsIn(['system', 'user', 'assistant'])
  role!: 'system' | 'user' | 'assistant';

  @IsString() @MaxLength(MAX_GATEWAY_CONTENT)
  content!: string;
}

export class GatewayStreamOptions {
  @IsOptional() @IsBoolean()
  include_usage?: boolean | null;
}

/**
 * The part of OpenAI's `POST /v1/chat/completions` body the gateway takes. Like
 * OpenAI, optional fields may be null; a field it does not know is refused
 * (400 invalid_request_error) rather than silently ignored.
 */
export class GatewayChatRequest {
  @IsString() @Length(1, MAX_MODEL)
  model!: string;

  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_GATEWAY_MESSAGES)
  @ValidateNested({ each: true }) @Type(() => GatewayMessage)
  messages!: GatewayMessage[];

  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @Min(0) @Max(2)
  temperature?: number | null;

  @IsOptional() @IsInt() @Min(1)
  max_tokens?: number | null;

  @IsOptional() @IsBoolean()
  stream?: boolean | null;

  @IsOptional() @IsObject() @ValidateNested() @Type(() => GatewayStreamOptions)
  stream_options?: GatewayStreamOptions | null;

  /** OpenAI's end-user id: accepted, not used. */
  @IsOptional() @IsString() @MaxLength(256)
  user?: string | null;
}
