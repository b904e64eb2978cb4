import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsString, IsUUID, Length, Matches } from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { ApiRequestExample } from '../../../../common/http/swagger';
import type { CodeLanguage, GenerateCodeInput } from '../../commands/generate-code.command';
import { ChatUsageResponse } from './chat.dto';

export const MAX_PROMPT = 20_000;
const MAX_MODEL = 200;
const LANGUAGES: CodeLanguage[] = ['python', 'javascript'];

@ApiRequestExample({ prompt: 'Print the 10 first Fibonacci numbers', language: 'python', model: 'gpt-4o-mini', run: true })
export class GenerateCodeRequest implements GenerateCodeInput {
  @ApiProperty({ minLength: 1, maxLength: MAX_PROMPT, example: 'Print the 10 first Fibonacci numbers' })
  @IsString() @Length(1, MAX_PROMPT)
  prompt!: string;

  @ApiPropertyOptional({ enum: LANGUAGES, default: 'python' })
  @IsOptionalNotNull() @IsIn(LANGUAGES)
  language?: CodeLanguage;

  @ApiPropertyOptional({ format: 'uuid', description: 'One of my AI configs, used instead of my active config of the model\'s provider' })
  @IsOptionalNotNull() @IsUUID('all')
  config_id?: string;

  @ApiPropertyOptional({ maxLength: MAX_MODEL, example: 'gpt-4o-mini', description: 'The model_name of an active catalog model; left out: config_id\'s model (required without config_id)' })
  @IsOptionalNotNull() @IsString() @Length(1, MAX_MODEL) @Matches(SINGLE_LINE_TEXT, { message: 'model cannot hold control characters or line breaks' })
  model?: string;

  @ApiPropertyOptional({ default: false, description: 'Run the code under my plan (counts like POST /execute) and answer the run with it' })
  @IsOptionalNotNull() @IsBoolean()
  run?: boolean;
}

export class GenerateCodeResponse {
  @ApiProperty({ description: 'The first fenced code block of the model\'s answer' }) code!: string;
  @ApiProperty({ description: 'The rest of the answer, trimmed' }) explanation!: string;
  @ApiProperty({ example: 'gpt-4o-mini' }) model!: string;
  @ApiProperty({ type: ChatUsageResponse }) usage!: ChatUsageResponse;
  @ApiPropertyOptional({ allOf: [{ $ref: getSchemaPath('ExecutionResponse') }], description: 'With run: the finished run, as POST /execute answers it' })
  execution?: Record<string, unknown>;
}
