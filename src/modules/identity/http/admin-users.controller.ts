import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../../../common/auth/auth.decorators';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { ChangePasswordCommand } from '../commands/change-password.command';
import { CreateUserCommand } from '../commands/create-user.command';
import { UpdateUserCommand } from '../commands/update-user.command';
import { GetUserDetailsQuery } from '../queries/get-user-details.query';
import { ListUsersQuery } from '../queries/list-users.query';
import {
  AdminCreateUserRequest, AdminUpdateUserRequest, ListUsersRequest, ResetPasswordRequest, SuccessResponse,
  UserDetailsResponse, UserListResponse, UserResponse,
} from './dto/user.dto';

@ApiTags('admin')
@AdminOnly()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('admin/users')
export class AdminUsersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List users (search by username or email; filter by role, level, status)' })
  @ApiOkResponse({ type: UserListResponse })
  list(@Query() query: ListUsersRequest): Promise<UserListResponse> {
    return this.queries.execute(
      new ListUsersQuery({ search: query.search, role: query.role, level: query.level, status: query.status, page: query.page, limit: query.limit }),
    );
  }

  @Post()
  @Audit({ action: 'user.admin_create', resourceType: 'user', resourceId: (r) => r.id, metadata: fieldsOf })
  @ApiOperation({ summary: 'Create a user with a role, level and status' })
  @ApiCreatedResponse({ type: UserResponse })
  @ApiConflictResponse({ type: ErrorResponse })
  create(@Body() body: AdminCreateUserRequest): Promise<UserResponse> {
    return this.commands.execute(new CreateUserCommand(body));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One user with last login, lock state and counts' })
  @ApiOkResponse({ type: UserDetailsResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  get(@UuidParam() id: string): Promise<UserDetailsResponse> {
    return this.queries.execute(new GetUserDetailsQuery(id));
  }

  @Put(':id')
  @Audit({ action: 'user.admin_update', resourceType: 'user', metadata: fieldsOf })
  @ApiOperation({ summary: 'Update username, email, name, role, level or status' })
  @ApiOkResponse({ type: UserResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  @ApiConflictResponse({ type: ErrorResponse })
  update(@UuidParam() id: string, @Body() body: AdminUpdateUserRequest): Promise<UserResponse> {
    return this.commands.execute(new UpdateUserCommand(id, body));
  }

  @Delete(':id')
  @Audit({ action: 'user.admin_delete', resourceType: 'user' })
  @ApiOperation({ summary: 'Soft delete: status deleted, sessions and API keys revoked, data kept' })
  @ApiOkResponse({ type: SuccessResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async remove(@UuidParam() id: string): Promise<SuccessResponse> {
    await this.commands.execute(new UpdateUserCommand(id, { status: 'deleted' }));
    return { success: true };
  }

  @Post(':id/change-password')
  @Audit({ action: 'user.admin_reset_password', resourceType: 'user' })
  @HttpCode(200)
  @ApiOperation({ summary: "Set a user's password; all of their sessions are revoked" })
  @ApiOkResponse({ type: SuccessResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async resetPassword(@UuidParam() id: string, @Body() body: ResetPasswordRequest): Promise<SuccessResponse> {
    await this.commands.execute(new ChangePasswordCommand(id, body.new_password));
    return { success: true };
  }
}
