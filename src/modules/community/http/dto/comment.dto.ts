import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, IsUUID, Length } from 'class-validator';
import { IsOptionalNotNull } from '../../../../common/http/dto-validators';
import { Pagination } from '../../../../common/http/pagination';
import { ApiRequestExample } from '../../../../common/http/swagger';
import { AuthorResponse } from './post.dto';

export const MAX_COMMENT = 10_000;

@ApiRequestExample({ content: 'Nice one! A memoized version is much faster.' })
export class CreateCommentRequest {
  @ApiProperty({ maxLength: MAX_COMMENT, description: 'Plain text' }) @IsString() @Length(1, MAX_COMMENT) content!: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'The comment this one answers; it must belong to the same post' })
  @IsOptionalNotNull() @IsUUID()
  parent_id?: string;
}

@ApiRequestExample({ content: 'Edited: a memoized version is much faster.' })
export class UpdateCommentRequest {
  @ApiProperty({ maxLength: MAX_COMMENT }) @IsString() @Length(1, MAX_COMMENT) content!: string;
}

export class CommentResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) post_id!: string;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) parent_id!: string | null;
  @ApiProperty({ description: '0 for a top-level comment' }) depth!: number;
  @ApiProperty({ type: AuthorResponse, nullable: true, description: 'null once the comment or its author\'s account is deleted' }) author!: AuthorResponse | null;
  @ApiProperty({ description: '"[deleted]" for a deleted comment' }) content!: string;
  @ApiProperty() deleted!: boolean;
  @ApiProperty() likes_count!: number;
  @ApiProperty({ description: 'Whether I like it' }) liked!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiProperty({ format: 'date-time' }) updated_at!: string;
}

export class CommentTreeResponse extends CommentResponse {
  @ApiProperty({ type: () => [CommentTreeResponse], description: 'Replies, oldest first, each with its own replies' }) replies!: CommentTreeResponse[];
}

export class CommentListResponse {
  @ApiProperty({ type: [CommentTreeResponse], description: 'A page of top-level comments, oldest first, with every reply under them' }) comments!: CommentTreeResponse[];
  @ApiProperty({ type: Pagination, description: 'total counts top-level comments' }) pagination!: Pagination;
}

export class CommentLikeResponse {
  @ApiProperty() liked!: boolean;
  @ApiProperty() likes_count!: number;
}
