import { Controller, Get } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyScopes, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { GetUserQuery } from '../queries/get-user.query';
import { UserResponse } from './dto/user.dto';

@ApiTags('users')
@Controller('users')
export class UsersController {
  constructor(private readonly queries: QueryBus) {}

  @Get('me')
  @ApiKeyScopes('profile:read')
  @ApiOperation({ summary: 'The current user' })
  @ApiOkResponse({ type: UserResponse })
  me(@CurrentUser() user: Principal): Promise<UserResponse> {
    return this.queries.execute(new GetUserQuery(user.user_id));
  }
}
