import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length, Matches } from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';

const MAX_TITLE = 200;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

@ApiRequestExample({ title: 'String reversal' })
export class RenameConversationRequest {
  @ApiProperty({ minLength: 1, maxLength: MAX_TITLE, example: 'String reversal' })
  @Transform(trim) @IsString() @Length(1, MAX_TITLE) @Matches(SINGLE_LINE_TEXT, { message: 'title cannot hold control characters or line breaks' })
  title!: string;
}

export class ConversationResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The first 80 characters of the first message, until renamed' }) title!: string;
  @ApiProperty({ description: 'The model of the latest exchange' }) model!: string;
  @ApiProperty() message_count!: number;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class ConversationListResponse {
  @ApiProperty({ type: [ConversationResponse] }) conversations!: ConversationResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class MessageResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['user', 'assistant', 'system'] }) role!: string;
  @ApiProperty() content!: string;
  @ApiProperty() prompt_tokens!: number;
  @ApiProperty() completion_tokens!: number;
  @ApiProperty({ description: 'USD' }) cost!: number;
  @ApiProperty({ type: Number, nullable: true, description: 'How long the model took (replies only)' }) latency_ms!: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'The model that wrote it (replies only)' }) model!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class MessageListResponse {
  @ApiProperty({ type: [MessageResponse] }) messages!: MessageResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class DeletedConversationResponse {
  @ApiProperty({ example: true }) success!: boolean;
}

export class UsageTotalsResponse {
  @ApiProperty() requests!: number;
  @ApiProperty() prompt_tokens!: number;
  @ApiProperty() completion_tokens!: number;
  @ApiProperty({ description: 'USD' }) cost!: number;
}

export class UsageByModelResponse extends UsageTotalsResponse {
  @ApiProperty() model!: string;
}

export class UsageByDayResponse {
  @ApiProperty({ example: '2026-12-01', description: 'A UTC day' }) date!: string;
  @ApiProperty() requests!: number;
  @ApiProperty({ description: 'Prompt and completion tokens' }) tokens!: number;
  @ApiProperty({ description: 'USD' }) cost!: number;
}

export class UsageResponse {
  @ApiProperty({ type: UsageTotalsResponse }) totals!: UsageTotalsResponse;
  @ApiProperty({ type: [UsageByModelResponse] }) by_model!: UsageByModelResponse[];
  @ApiProperty({ type: [UsageByDayResponse], description: 'The last 30 UTC days, oldest first, days without use as zeros' }) by_day!: UsageByDayResponse[];
  @ApiProperty({ description: 'Conversations I keep' }) conversations!: number;
  @ApiProperty({ description: 'Messages in them' }) messages!: number;
}
