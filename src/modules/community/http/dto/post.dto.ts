import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsOptional, IsString, IsUUID, Length, Matches } from 'class-validator';
import { SINGLE_LINE_TEXT } from '../../../../common/http/display-text';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { PageQuery, Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';
import type { PostInput } from '../../commands/create-post.command';

export const MAX_TITLE = 200;
export const MAX_CONTENT = 100_000;
export const MAX_CODE = 256 * 1024;
const MAX_TAGS = 10;
/** A tag: letters (any script), digits and a few joiners; no spaces. */
const TAG = /^[\p{L}\p{N}][\p{L}\p{N}+#._-]*$/u;
/** A language name as code fences use it: `python`, `c++`, `c#`, `objective-c`. */
const CODE_LANGUAGE = /^[a-z0-9][a-z0-9+#._-]*$/;

/** A title is shown on one line: no control, line-break or bidi characters. */
const ONE_LINE = { message: 'title cannot hold control characters or line breaks' };

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);
const lowerTrim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);
const lowerTrimEach = ({ value }: { value: unknown }) => (Array.isArray(value) ? value.map((tag) => (typeof tag === 'string' ? tag.trim().toLowerCase() : tag)) : value);

@ApiRequestExample({
  title: 'Fibonacci in one line',
  content: 'A **generator** version:\n\n```python\nfib = lambda n: n if n < 2 else fib(n - 1) + fib(n - 2)\n```',
  code: 'fib = lambda n: n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(10))',
  code_language: 'python',
  tags: ['python', 'recursion'],
})
export class CreatePostRequest implements PostInput {
  @ApiProperty({ maxLength: MAX_TITLE }) @Transform(trim) @IsString() @Length(1, MAX_TITLE) @Matches(SINGLE_LINE_TEXT, ONE_LINE) title!: string;
  @ApiProperty({ description: 'Markdown; stored as written and rendered once to sanitized HTML (content_html)', maxLength: MAX_CONTENT })
  @IsString() @Length(1, MAX_CONTENT)
  content!: string;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_CODE, description: 'Code shown with the post (default: the snippet\'s, if snippet_id is given)' })
  @IsOptional() @IsString() @Length(1, MAX_CODE)
  code?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'python', maxLength: 30, description: 'Lowercase language name, as in code fences' })
  @IsOptional() @Transform(lowerTrim) @IsString() @Length(1, 30) @Matches(CODE_LANGUAGE, { message: 'code_language must be a language name such as python, c++ or objective-c' })
  code_language?: string | null;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true, description: 'A snippet of mine, or a public one' })
  @IsOptional() @IsUUID()
  snippet_id?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_TAGS, example: ['python'], description: 'Lowercased; duplicates dropped' })
  @IsOptionalNotNull() @Transform(lowerTrimEach) @IsArray() @ArrayMaxSize(MAX_TAGS) @IsString({ each: true }) @Length(1, 30, { each: true })
  @Matches(TAG, { each: true, message: 'each tag must be letters, digits, +, #, ., _ or -, without spaces' })
  tags?: string[];

  @ApiPropertyOptional({ default: true }) @IsOptionalNotNull() @IsBoolean() is_public?: boolean;
}

/** The fields given change; `code`, `code_language` and `snippet_id` may be set to null. */
@ApiRequestExample({ title: 'Fibonacci, memoized', is_public: true })
export class UpdatePostRequest implements Partial<PostInput> {
  @ApiPropertyOptional({ maxLength: MAX_TITLE }) @IsOptionalNotNull() @Transform(trim) @IsString() @Length(1, MAX_TITLE) @Matches(SINGLE_LINE_TEXT, ONE_LINE) title?: string;
  @ApiPropertyOptional({ maxLength: MAX_CONTENT }) @IsOptionalNotNull() @IsString() @Length(1, MAX_CONTENT) content?: string;
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: MAX_CODE }) @IsOptional() @IsString() @Length(1, MAX_CODE) code?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 30 })
  @IsOptional() @Transform(lowerTrim) @IsString() @Length(1, 30) @Matches(CODE_LANGUAGE, { message: 'code_language must be a language name such as python, c++ or objective-c' })
  code_language?: string | null;

  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) @IsOptional() @IsUUID() snippet_id?: string | null;

  @ApiPropertyOptional({ type: [String], maxItems: MAX_TAGS })
  @IsOptionalNotNull() @Transform(lowerTrimEach) @IsArray() @ArrayMaxSize(MAX_TAGS) @IsString({ each: true }) @Length(1, 30, { each: true })
  @Matches(TAG, { each: true, message: 'each tag must be letters, digits, +, #, ., _ or -, without spaces' })
  tags?: string[];

  @ApiPropertyOptional() @IsOptionalNotNull() @IsBoolean() is_public?: boolean;
}

export class ListPostsRequest extends PageQuery {
  @ApiPropertyOptional({ description: 'Posts carrying this tag (case-insensitive)' }) @IsOptionalNotNull() @Transform(lowerTrim) @IsString() @Length(1, 30) tag?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Posts by this user (mine: the private ones too)' }) @IsOptionalNotNull() @IsUUID() author_id?: string;

  @ApiPropertyOptional({ description: 'Words that must all appear in the title or content (full-text, whole words)', maxLength: 200 })
  @IsOptionalNotNull() @IsString() @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'true: only posts by the people I follow' }) @IsOptionalNotNull() @IsIn(['true', 'false']) following?: 'true' | 'false';

  @ApiPropertyOptional({ enum: ['latest', 'popular'], default: 'latest', description: 'popular: likes, comments and views weighed against age' })
  @IsOptionalNotNull() @IsIn(['latest', 'popular'])
  sort?: 'latest' | 'popular';
}

export class AuthorResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ type: String, nullable: true }) avatar_url!: string | null;
}

export class PostResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ description: 'Markdown, as written' }) content!: string;
  @ApiProperty({ description: 'The Markdown as sanitized HTML: no scripts, event handlers or javascript: URLs' }) content_html!: string;
  @ApiProperty({ type: String, nullable: true }) code!: string | null;
  @ApiProperty({ type: String, nullable: true }) code_language!: string | null;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) snippet_id!: string | null;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty() is_public!: boolean;
  @ApiProperty({ type: AuthorResponse, nullable: true, description: 'null if the author\'s account is deleted' }) author!: AuthorResponse | null;
  @ApiProperty() likes_count!: number;
  @ApiProperty() favorites_count!: number;
  @ApiProperty({ description: 'Comments not deleted, replies included' }) comments_count!: number;
  @ApiProperty({ description: 'Views by users other than the author, at most one per user per hour' }) views_count!: number;
  @ApiProperty({ description: 'Whether I like it' }) liked!: boolean;
  @ApiProperty({ description: 'Whether I favorited it' }) favorited!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class PostListResponse {
  @ApiProperty({ type: [PostResponse] }) posts!: PostResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

export class LikeResponse {
  @ApiProperty() liked!: boolean;
  @ApiProperty() likes_count!: number;
}

export class FavoriteResponse {
  @ApiProperty() favorited!: boolean;
  @ApiProperty() favorites_count!: number;
}
