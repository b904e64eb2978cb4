import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUUID, Length, Max, MaxLength, Min } from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';
import { MAX_CODE, MAX_DESCRIPTION, MAX_TAG_LENGTH, MAX_TAGS, MAX_TITLE, SNIPPET_LANGUAGES } from '../../snippet-limits';

export const LANGUAGES = SNIPPET_LANGUAGES;
const MAX_STDIN = 256 * 1024;

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

@ApiRequestExample({ title: 'Fibonacci', code: 'a, b = 0, 1\nfor _ in range(10):\n    print(a)\n    a, b = b, a + b\n', language: 'python', tags: ['math'] })
export class CreateSnippetRequest {
  @ApiProperty({ example: 'Fibonacci', maxLength: MAX_TITLE }) @Transform(trim) @IsString() @Length(1, MAX_TITLE) title!: string;
  @ApiPropertyOptional({ default: '', maxLength: MAX_DESCRIPTION }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_DESCRIPTION) description?: string;
  @ApiProperty({ example: 'print(sum(range(10)))' }) @IsString() @Length(1, MAX_CODE) code!: string;
  @ApiPropertyOptional({ enum: LANGUAGES, default: 'python' }) @IsOptionalNotNull() @IsIn(LANGUAGES) language?: (typeof LANGUAGES)[number];

  @ApiPropertyOptional({ type: [String], example: ['math', 'recursion'], maxItems: MAX_TAGS })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(MAX_TAGS) @IsString({ each: true }) @Length(1, MAX_TAG_LENGTH, { each: true })
  tags?: string[];

  @ApiPropertyOptional({ default: false }) @IsOptionalNotNull() @IsBoolean() is_public?: boolean;
  @ApiPropertyOptional({ format: 'uuid', description: 'The environment the snippet runs in' }) @IsOptionalNotNull() @IsUUID() environment_id?: string;
}

/** Every field optional: only those sent change; null is refused (the columns are NOT NULL), but `environment_id: null` detaches the environment. */
@ApiRequestExample({ title: 'Fibonacci, first ten', is_public: true })
export class UpdateSnippetRequest {
  @ApiPropertyOptional({ maxLength: MAX_TITLE }) @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, MAX_TITLE) title?: string;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsString() @MaxLength(MAX_DESCRIPTION) description?: string;
  @ApiPropertyOptional() @IsOptionalNotNull() @IsString() @Length(1, MAX_CODE) code?: string;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptionalNotNull() @IsIn(LANGUAGES) language?: (typeof LANGUAGES)[number];

  @ApiPropertyOptional({ type: [String], maxItems: MAX_TAGS })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(MAX_TAGS) @IsString({ each: true }) @Length(1, MAX_TAG_LENGTH, { each: true })
  tags?: string[];

  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() is_public?: boolean;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) @IsOptional() @IsUUID() environment_id?: string | null;
}

/** The filters of every snippet list: a page, q, tag, language. */
export class SnippetFiltersRequest extends PageQuery {
  @ApiPropertyOptional({ description: 'Case-insensitive substring of the title, description or code' })
  @IsOptionalNotNull() @IsString() @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ description: 'Snippets carrying this tag' }) @IsOptionalNotNull() @IsString() @Length(1, MAX_TAG_LENGTH) tag?: string;
  @ApiPropertyOptional({ enum: LANGUAGES }) @IsOptionalNotNull() @IsIn(LANGUAGES) language?: string;
}

/** GET /code-library: the filters, and is_public (the caller's own list holds both kinds). */
export class ListSnippetsRequest extends SnippetFiltersRequest {
  @ApiPropertyOptional({ enum: ['true', 'false'] }) @IsOptionalNotNull() @IsIn(['true', 'false']) is_public?: 'true' | 'false';
}

/** `{code_id}` or `{post_id}`, exactly one. */
// Needs the id of a public snippet: there is none to name in advance.
@ApiRequestExample({ code_id: '00000000-0000-4000-8000-000000000000' })
export class SaveSnippetRequest {
  @ApiPropertyOptional({ format: 'uuid', description: 'A public snippet (or one of yours) to copy' }) @IsOptionalNotNull() @IsUUID() code_id?: string;
  @ApiPropertyOptional({ format: 'uuid', description: "A community post whose code to copy" }) @IsOptionalNotNull() @IsUUID() post_id?: string;
}

@ApiRequestExample({ stdin: '' })
export class RunSnippetRequest {
  @ApiPropertyOptional({ default: '' }) @IsOptionalNotNull() @IsString() @MaxLength(MAX_STDIN) stdin?: string;
  @ApiPropertyOptional({ description: "Wall-time limit; at most the plan's", minimum: 100, maximum: 3_600_000 }) @IsOptionalNotNull() @IsInt() @Min(100) @Max(3_600_000) timeout_ms?: number;
  @ApiPropertyOptional({ description: "Memory limit; at most the plan's", minimum: 16, maximum: 65_536 }) @IsOptionalNotNull() @IsInt() @Min(16) @Max(65_536) memory_mb?: number;

  @ApiPropertyOptional({ type: [String], description: 'Command-line arguments' })
  @IsOptionalNotNull() @IsArray() @ArrayMaxSize(50) @IsString({ each: true }) @MaxLength(1000, { each: true })
  args?: string[];
}

export class SnippetResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) user_id!: string;
  @ApiProperty() title!: string;
  @ApiProperty() description!: string;
  @ApiProperty() code!: string;
  @ApiProperty({ enum: LANGUAGES }) language!: string;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty() is_public!: boolean;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) environment_id!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true, description: 'The snippet this one was copied from' }) saved_from_id!: string | null;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class SnippetListResponse {
  @ApiProperty({ type: [SnippetResponse] }) snippets!: SnippetResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class SavedSnippetResponse {
  @ApiProperty({ format: 'uuid', description: 'The new copy in your library' }) id!: string;
  @ApiProperty({ example: 'Snippet saved to your library' }) message!: string;
}

export class DeletedResponse {
  @ApiProperty({ example: true }) success!: boolean;
}
