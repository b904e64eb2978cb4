import { Controller, Get, Param, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { pagination } from '../../../common/http/pagination';
import { UuidParam } from '../../../common/http/uuid-param';
import { SearchUsersQuery } from '../../identity/queries/search-users.query';
import { seesFullProfile } from '../profile-access';
import { GetPublicProfileQuery } from '../queries/get-public-profile.query';
import { GetPublicStatsQuery } from '../queries/get-public-stats.query';
import { PublicProfileResponse, SearchUsersRequest, UserSearchResponse } from './dto/people.dto';
import { PublicStatsResponse } from './dto/stats.dto';

/** Usernames are at most 32 characters; anything longer names nobody. */
const MAX_USERNAME = 32;

/** Finding people and their public pages. */
@ApiTags('users')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('users')
export class UserDirectoryController {
  constructor(private readonly queries: QueryBus) {}

  @Get('search')
  @ApiOperation({ summary: 'Find people by username, or by name where their profile is public', description: 'Exact username first, then usernames starting with q, then the rest.' })
  @ApiOkResponse({ type: UserSearchResponse })
  async search(@CurrentUser() user: Principal, @Query() query: SearchUsersRequest): Promise<UserSearchResponse> {
    const actor = actorOf(user);
    const { rows, total } = await this.queries.execute(new SearchUsersQuery({ q: query.q, page: query.page, limit: query.limit }));
    const users = rows.map((card) => ({ id: card.id, username: card.username, name: seesFullProfile(actor, card) ? card.name : null, avatar_url: card.avatar_url }));
    return { users, pagination: pagination(total, query) };
  }

  @Get('by-username/:username')
  @ApiOperation({ summary: 'A user\'s public page by username (case-insensitive)', description: 'A private profile shows others only id, username and avatar_url.' })
  @ApiOkResponse({ type: PublicProfileResponse })
  @ApiNotFoundResponse({ description: 'No such user', type: ErrorResponse })
  byUsername(@CurrentUser() user: Principal, @Param('username') username: string): Promise<PublicProfileResponse> {
    if (username.length > MAX_USERNAME) throw AppError.notFound('User');
    return this.queries.execute(new GetPublicProfileQuery(actorOf(user), username));
  }

  @Get(':id/stats')
  @ApiOperation({ summary: 'A user\'s public figures: public posts and snippets, follows, what the public posts received' })
  @ApiOkResponse({ type: PublicStatsResponse })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: the profile is private; ACCOUNT_DISABLED: the account is disabled', type: ErrorResponse })
  @ApiNotFoundResponse({ description: 'No such user', type: ErrorResponse })
  stats(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<PublicStatsResponse> {
    return this.queries.execute(new GetPublicStatsQuery(actorOf(user), id));
  }
}
