import { Body, Controller, Get, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { NoQueryPipe } from '../../../common/http/no-query.pipe';
import { UpdateProfileCommand } from '../commands/update-profile.command';
import { GetProfileQuery } from '../queries/get-profile.query';
import { toProfileFields } from '../user.mapper';
import { ProfileResponse, UpdateProfileRequest } from './dto/profile.dto';

/**
 * The caller's own profile. JWT only: a profile is edited by its owner, not by
 * a program holding an API key (which answers 403). The audit entry of a
 * change names the fields sent, never their values.
 */
@ApiTags('profile')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('profile')
export class ProfileController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'My profile' })
  @ApiOkResponse({ type: ProfileResponse })
  async get(@CurrentUser() user: Principal, @Query(NoQueryPipe) _query: unknown): Promise<ProfileResponse> {
    const profile = await this.queries.execute(new GetProfileQuery({ id: user.user_id }));
    if (!profile) throw AppError.notFound('User');
    return toProfileFields(profile);
  }

  @Put()
  @Audit({ action: 'profile.update', resourceType: 'user', resourceIdFromRequest: (request) => request.principal?.user_id, metadata: fieldsOf })
  @ApiOperation({
    summary: 'Change my profile: name, bio, website, location, company, github, is_public',
    description: 'Only the fields sent change. Text is trimmed; null or an empty text clears a field. GET /users/me shows a new name at once.',
  })
  @ApiOkResponse({ type: ProfileResponse })
  async update(@CurrentUser() user: Principal, @Body() body: UpdateProfileRequest): Promise<ProfileResponse> {
    return toProfileFields(await this.commands.execute(new UpdateProfileCommand(user.user_id, body)));
  }
}
