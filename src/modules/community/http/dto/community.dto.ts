import { ApiProperty } from '@nestjs/swagger';
import { Pagination } from '../../../../common/http/pagination';

export class DeletedResponse {
  @ApiProperty({ example: true }) success!: boolean;
}

export class FollowResponse {
  @ApiProperty({ description: 'Whether I follow the user now' }) following!: boolean;
  @ApiProperty() followers_count!: number;
}

export class FollowStatusResponse {
  @ApiProperty({ description: 'I follow them' }) following!: boolean;
  @ApiProperty({ description: 'They follow me' }) followed_by!: boolean;
}

export class FollowUserResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ type: String, nullable: true, description: 'null when their profile is private' }) name!: string | null;
  @ApiProperty({ type: String, nullable: true }) avatar_url!: string | null;
  @ApiProperty({ format: 'date-time' }) followed_at!: string;
  @ApiProperty({ description: 'Whether I follow them' }) following!: boolean;
}

export class FollowListResponse {
  @ApiProperty({ type: [FollowUserResponse] }) users!: FollowUserResponse[];
  @ApiProperty({ type: Pagination }) pagination!: Pagination;
}
