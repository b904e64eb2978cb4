import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';
import { PageQuery, Pagination } from '../../../../common/http/pagination';

export class SearchUsersRequest extends PageQuery {
  @ApiProperty({ description: 'Part of a username, or of a name on a public profile (case-insensitive)', minLength: 1, maxLength: 100, example: 'ali' })
  @IsString() @Length(1, 100)
  q!: string;
}

export class UserCardResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null when the profile is private' }) name!: string | null;
  @ApiProperty({ type: String, nullable: true }) avatar_url!: string | null;
}

export class UserSearchResponse {
  @ApiProperty({ type: [UserCardResponse] }) users!: UserCardResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}

/** A profile as others see it; a private one (is_public false) has only id, username, avatar_url and is_public. */
export class PublicProfileResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ type: String, nullable: true }) avatar_url!: string | null;
  @ApiProperty() is_public!: boolean;
  @ApiPropertyOptional({ type: String, nullable: true }) name?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) bio?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) website?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) location?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true }) company?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'GitHub handle' }) github?: string | null;
  @ApiPropertyOptional({ format: 'date-time' }) created_at?: string;
  @ApiPropertyOptional({ description: 'Public posts (all, on my own profile)' }) posts_count?: number;
  @ApiPropertyOptional() followers_count?: number;
  @ApiPropertyOptional() following_count?: number;
  @ApiPropertyOptional({ description: 'I follow them' }) following?: boolean;
  @ApiPropertyOptional({ description: 'They follow me' }) followed_by?: boolean;
}
