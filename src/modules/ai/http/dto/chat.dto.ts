import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { ApiRequestExample } from '../../../../common/http/swagger';
import type { ChatInput } from '../../chat-exchange';

export const MAX_MESSAGE = 100_000;
export const MAX_SYSTEM_PROMPT = 20_000;
const MAX_MODEL = 200;

@ApiRequestExample({ message: 'Write a Python function that reverses a string.', model: 'gpt-4o-mini' })
export class ChatRequest implements ChatInput {
  @ApiProperty({ minLength: 1, maxLength: MAX_MESSAGE, example: 'Write a Python function that reverses a string.' })
  @IsString() @Length(1, MAX_MESSAGE)
  message!: string;

  @ApiProperty({ maxLength: MAX_MODEL, example: 'gpt-4o-mini', description: 'The model_name of an active catalog model' })
  @IsString() @Length(1, MAX_MODEL) @Matches(SINGLE_LINE_TEXT, { message: 'model cannot hold control characters or line breaks' })
  model!: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'One of my conversations to continue; left out: a new conversation' })
  @IsOptionalNotNull() @IsUUID('all')
  conversation_id?: string;

  @ApiPropertyOptional({ maxLength: MAX_SYSTEM_PROMPT, description: 'Sent first, for this message only; not stored' })
  @IsOptionalNotNull() @IsString() @MaxLength(MAX_SYSTEM_PROMPT)
  system_prompt?: string;
}

export class ChatUsageResponse {
  @ApiProperty() prompt_tokens!: number;
  @ApiProperty() completion_tokens!: number;
  @ApiProperty() total_tokens!: number;
  @ApiProperty({ example: 0.000123, description: 'USD: prompt/1000 × input price + completion/1000 × output price, six decimals' }) cost!: number;
}

export class ChatResponse {
  @ApiProperty({ format: 'uuid' }) conversation_id!: string;
  @ApiProperty() response!: string;
  @ApiProperty({ example: 'gpt-4o-mini' }) model!: string;
  @ApiProperty({ type: ChatUsageResponse }) usage!: ChatUsageResponse;
  @ApiProperty({ format: 'date-time' }) timestamp!: string;
}
