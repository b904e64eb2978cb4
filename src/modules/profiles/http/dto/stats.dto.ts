import { ApiProperty } from '@nestjs/swagger';

export class ExecutionSummary {
  @ApiProperty({ example: 42, description: 'Every run of mine' }) total!: number;
  @ApiProperty({ example: 3, description: 'Runs today (UTC day)' }) today!: number;
  @ApiProperty({ example: 0.9524, description: 'Successful runs / all runs, 0..1 (0 without runs)' }) success_rate!: number;
}

export class LanguageCount {
  @ApiProperty({ example: 'python' }) language!: string;
  @ApiProperty({ example: 40 }) count!: number;
}

export class DayCount {
  @ApiProperty({ example: '2026-11-30', description: 'UTC day' }) date!: string;
  @ApiProperty({ example: 5 }) count!: number;
  @ApiProperty({ example: 4 }) successful!: number;
}

export class ExecutionDetail extends ExecutionSummary {
  @ApiProperty({ example: 40 }) successful!: number;
  @ApiProperty({ type: Number, nullable: true, example: 118.5, description: 'Mean run time of finished runs, ms' }) average_time_ms!: number | null;
  @ApiProperty({ type: [DayCount], description: 'The last 30 UTC days, oldest first, ending today; days without runs are 0' }) per_day!: DayCount[];
  @ApiProperty({ type: [LanguageCount], description: 'All my runs by language, most first' }) by_language!: LanguageCount[];
}

/** GET /user-stats. */
export class UserStatsResponse {
  @ApiProperty({ type: ExecutionSummary }) executions!: ExecutionSummary;
  @ApiProperty({ example: 12, description: 'My snippets, private ones included' }) snippets!: number;
  @ApiProperty({ example: 5, description: 'My posts, private ones included' }) posts!: number;
  @ApiProperty({ example: 8 }) followers!: number;
}

/** GET /profile/stats. */
export class ProfileStatsResponse {
  @ApiProperty({ example: 5 }) posts!: number;
  @ApiProperty({ example: 12 }) snippets!: number;
  @ApiProperty({ example: 7 }) public_snippets!: number;
  @ApiProperty({ example: 8 }) followers!: number;
  @ApiProperty({ example: 3 }) following!: number;
  @ApiProperty({ example: 42, description: 'All my runs' }) executions!: number;
  @ApiProperty({ example: 30, description: 'Likes my posts received' }) likes_received!: number;
  @ApiProperty({ example: 6, description: 'Favorites my posts received' }) favorites_received!: number;
}

/** GET /profile/enhanced-stats. */
export class EnhancedStatsResponse {
  @ApiProperty({ type: ExecutionDetail }) executions!: ExecutionDetail;
  @ApiProperty({ example: 12 }) snippets!: number;
  @ApiProperty({ example: 7 }) public_snippets!: number;
  @ApiProperty({ example: 5 }) posts!: number;
  @ApiProperty({ example: 8 }) followers!: number;
  @ApiProperty({ example: 3 }) following!: number;
  @ApiProperty({ example: 30 }) likes_received!: number;
  @ApiProperty({ example: 6 }) favorites_received!: number;
  @ApiProperty({ example: 14, description: 'Comments on my posts (not deleted)' }) comments_received!: number;
}

/** GET /users/:id/stats: public posts and snippets only. */
export class PublicStatsResponse {
  @ApiProperty({ format: 'uuid' }) user_id!: string;
  @ApiProperty({ example: 4, description: 'Public posts' }) posts!: number;
  @ApiProperty({ example: 7, description: 'Public snippets' }) snippets!: number;
  @ApiProperty({ example: 8 }) followers!: number;
  @ApiProperty({ example: 3 }) following!: number;
  @ApiProperty({ example: 30, description: 'Likes the public posts received' }) likes_received!: number;
  @ApiProperty({ example: 6 }) favorites_received!: number;
  @ApiProperty({ example: 14 }) comments_received!: number;
}
