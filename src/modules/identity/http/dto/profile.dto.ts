import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional, IsString, IsUrl, Matches, MaxLength } from 'class-validator';
import { MULTI_LINE_TEXT as MULTI_LINE, SINGLE_LINE_TEXT as SINGLE_LINE } from '../../../../common/http/display-text';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { ApiRequestExample } from '../../../../common/http/swagger';
import type { ProfileChanges } from '../../commands/update-profile.command';
import type { ProfileFields } from '../../user.mapper';

/** A GitHub username: 1-39 letters, digits and hyphens, no hyphen first, last or next to another. */
export const GITHUB_PATTERN = /^(?=.{1,39}$)[A-Za-z0-9](?:-?[A-Za-z0-9])*$/;

const singleLine = { message: '$property cannot hold control characters or line breaks' };

/** Trimmed; a text left empty clears the field, as null does (both are stored as NULL). */
const trimmedOrNull = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() || null : value);

export class ProfileResponse implements ProfileFields {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'ada_l' }) username!: string;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
  @ApiProperty({ type: String, nullable: true, example: 'Ada Lovelace' }) name!: string | null;
  @ApiProperty({ type: String, nullable: true }) bio!: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'https://example.com' }) website!: string | null;
  @ApiProperty({ type: String, nullable: true }) location!: string | null;
  @ApiProperty({ type: String, nullable: true }) company!: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'GitHub username', example: 'octocat' }) github!: string | null;
  @ApiProperty({ type: String, nullable: true }) avatar_url!: string | null;
  @ApiProperty({ description: 'false: a private profile, which others find by its username only, never by its name' }) is_public!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

/**
 * Every field optional: only those sent change. Text is trimmed; null or an
 * empty text clears a field. `is_public` cannot be null.
 */
@ApiRequestExample({ name: 'Ada Lovelace', bio: 'Writes programs for engines that do not exist yet.', website: 'https://example.com', location: 'London', github: 'octocat', is_public: true })
export class UpdateProfileRequest implements ProfileChanges {
  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100 })
  @IsOptional() @Transform(trimmedOrNull) @IsString() @MaxLength(100) @Matches(SINGLE_LINE, singleLine)
  name?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 500, description: 'May run over several lines' })
  @IsOptional() @Transform(trimmedOrNull) @IsString() @MaxLength(500) @Matches(MULTI_LINE, { message: '$property cannot hold control characters other than tab and line breaks' })
  bio?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 200, description: 'An absolute http or https URL, without a user name or password in it', example: 'https://example.com' })
  @IsOptional() @Transform(trimmedOrNull) @IsString() @MaxLength(200) @Matches(SINGLE_LINE, singleLine)
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_valid_protocol: true, disallow_auth: true },
    { message: '$property must be an absolute http or https URL, without a user name or password' },
  )
  website?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100 })
  @IsOptional() @Transform(trimmedOrNull) @IsString() @MaxLength(100) @Matches(SINGLE_LINE, singleLine)
  location?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, maxLength: 100 })
  @IsOptional() @Transform(trimmedOrNull) @IsString() @MaxLength(100) @Matches(SINGLE_LINE, singleLine)
  company?: string | null;

  @ApiPropertyOptional({ type: String, nullable: true, pattern: GITHUB_PATTERN.source, description: 'A GitHub username (not a URL, no @)', example: 'octocat' })
  @IsOptional() @Transform(trimmedOrNull) @IsString()
  @Matches(GITHUB_PATTERN, { message: '$property must be a GitHub username: 1-39 letters, digits or single hyphens, not starting or ending with a hyphen' })
  github?: string | null;

  @ApiPropertyOptional({ description: 'false: a private profile, which others find by its username only, never by its name' })
  @IsOptionalNotNull() @IsBoolean()
  is_public?: boolean;
}
