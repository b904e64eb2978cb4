import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { GetOwnStatsQuery } from '../queries/get-own-stats.query';
import { EnhancedStatsResponse, ProfileStatsResponse, UserStatsResponse } from './dto/stats.dto';

/** My own figures, three views of them (the seed's three endpoints). */
@ApiTags('profile')
@Authenticated()
@Controller()
export class ProfileStatsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('user-stats')
  @ApiOperation({ summary: 'My runs (total, today, success rate), snippets, posts and followers' })
  @ApiOkResponse({ type: UserStatsResponse })
  async userStats(@CurrentUser() user: Principal): Promise<UserStatsResponse> {
    const { executions, snippets, community } = await this.queries.execute(new GetOwnStatsQuery(user.user_id));
    return {
      executions: { total: executions.total, today: executions.today, success_rate: executions.success_rate },
      snippets,
      posts: community.posts,
      followers: community.followers,
    };
  }

  @Get('profile/stats')
  @ApiOperation({ summary: 'The counts of my profile page' })
  @ApiOkResponse({ type: ProfileStatsResponse })
  async profileStats(@CurrentUser() user: Principal): Promise<ProfileStatsResponse> {
    const { executions, snippets, public_snippets, community } = await this.queries.execute(new GetOwnStatsQuery(user.user_id));
    return {
      posts: community.posts,
      snippets,
      public_snippets,
      followers: community.followers,
      following: community.following,
      executions: executions.total,
      likes_received: community.likes_received,
      favorites_received: community.favorites_received,
    };
  }

  @Get('profile/enhanced-stats')
  @ApiOperation({ summary: 'My figures in detail: runs per day over 30 days, by language, mean run time; what my posts received' })
  @ApiOkResponse({ type: EnhancedStatsResponse })
  async enhancedStats(@CurrentUser() user: Principal): Promise<EnhancedStatsResponse> {
    const { executions, snippets, public_snippets, community } = await this.queries.execute(new GetOwnStatsQuery(user.user_id));
    return {
      executions: {
        total: executions.total,
        today: executions.today,
        successful: executions.successful,
        success_rate: executions.success_rate,
        average_time_ms: executions.average_time_ms,
        per_day: executions.per_day,
        by_language: executions.by_language,
      },
      snippets,
      public_snippets,
      posts: community.posts,
      followers: community.followers,
      following: community.following,
      likes_received: community.likes_received,
      favorites_received: community.favorites_received,
      comments_received: community.comments_received,
    };
  }
}
