import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiTooManyRequestsResponse } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { ActionRateLimit } from '../../../common/http/action-rate-limit';
import { PageQuery } from '../../../common/http/pagination';
import { UuidParam } from '../../../common/http/uuid-param';
import { ToggleFollowCommand } from '../commands/toggle-follow.command';
import { toPostResponse } from '../post.mapper';
import { GetFollowStatusQuery } from '../queries/get-follow-status.query';
import { ListFollowsQuery } from '../queries/list-follows.query';
import { ListPostsQuery } from '../queries/list-posts.query';
import { FollowListResponse, FollowResponse, FollowStatusResponse } from './dto/community.dto';
import { PostListResponse } from './dto/post.dto';
import { COMMUNITY_REACT, DISABLED_OR } from './limits';

const userNotFound = { description: 'No such user', type: ErrorResponse };
const privateProfile = { description: `FORBIDDEN: the user's profile is private; ${DISABLED_OR}`, type: ErrorResponse };

/** Following people and the community side of a user's page. */
@ApiTags('community')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller()
export class PeopleController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('community/follow/:user_id')
  @HttpCode(200)
  @ActionRateLimit(COMMUNITY_REACT)
  @Audit({ action: 'user.follow', resourceType: 'user', resourceIdFromRequest: (request) => (request.params as { user_id?: string }).user_id })
  @ApiOperation({ summary: 'Follow a user, or stop following them', description: 'A toggle; not myself (400). At most 30 likes, favorites and follows per 30 s.' })
  @ApiOkResponse({ type: FollowResponse })
  @ApiNotFoundResponse(userNotFound)
  @ApiTooManyRequestsResponse({ description: 'RATE_LIMITED: more than 30 likes, favorites and follows in 30 s, or the plan\'s request limit', type: ErrorResponse })
  async follow(@CurrentUser() user: Principal, @UuidParam('user_id') userId: string): Promise<FollowResponse> {
    const { on, count } = await this.commands.execute(new ToggleFollowCommand(actorOf(user), userId));
    return { following: on, followers_count: count };
  }

  @Get('users/:id/followers')
  @ApiOperation({ summary: 'Who follows a user, most recent first' })
  @ApiOkResponse({ type: FollowListResponse })
  @ApiForbiddenResponse(privateProfile)
  @ApiNotFoundResponse(userNotFound)
  followers(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: PageQuery): Promise<FollowListResponse> {
    return this.follows(user, id, 'followers', query);
  }

  @Get('users/:id/following')
  @ApiOperation({ summary: 'Whom a user follows, most recent first' })
  @ApiOkResponse({ type: FollowListResponse })
  @ApiForbiddenResponse(privateProfile)
  @ApiNotFoundResponse(userNotFound)
  following(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: PageQuery): Promise<FollowListResponse> {
    return this.follows(user, id, 'following', query);
  }

  @Get('users/:id/follow-status')
  @ApiOperation({ summary: 'Whether I follow a user and whether they follow me' })
  @ApiOkResponse({ type: FollowStatusResponse })
  @ApiNotFoundResponse(userNotFound)
  followStatus(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<FollowStatusResponse> {
    return this.queries.execute(new GetFollowStatusQuery(actorOf(user), id));
  }

  @Get('users/:id/posts')
  @ApiOperation({ summary: 'A user\'s posts, newest first: the public ones, or all of mine' })
  @ApiOkResponse({ type: PostListResponse })
  async posts(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: PageQuery): Promise<PostListResponse> {
    // Mine: the private ones too; anyone else's (an admin included, this being a profile page): the public ones.
    const actor = { ...actorOf(user), admin: false };
    const { posts, pagination } = await this.queries.execute(new ListPostsQuery(actor, { author_id: id }, query));
    return { posts: posts.map(toPostResponse), pagination };
  }

  private async follows(user: Principal, id: string, side: 'followers' | 'following', query: PageQuery): Promise<FollowListResponse> {
    const { users, pagination } = await this.queries.execute(new ListFollowsQuery(actorOf(user), id, side, query));
    return { users: users.map((entry) => ({ ...entry, followed_at: entry.followed_at.toISOString() })), pagination };
  }
}
