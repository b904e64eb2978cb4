import { Controller, Delete, Get, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { DeleteEnvironmentCommand } from '../commands/delete-environment.command';
import { toEnvironmentResponse } from '../environment.mapper';
import { ListUserEnvironmentsQuery } from '../queries/list-user-environments.query';
import { AdminListEnvironmentsRequest, DeletedResponse, EnvironmentListResponse } from './dto/environment.dto';

@ApiTags('admin')
@AdminOnly()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('admin/user-environments')
export class AdminUserEnvironmentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every user\'s environments, newest first (filter: user_id)' })
  @ApiOkResponse({ type: EnvironmentListResponse })
  async list(@Query() query: AdminListEnvironmentsRequest): Promise<EnvironmentListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListUserEnvironmentsQuery(query.user_id ?? null, query.page, query.limit));
    return { environments: rows.map(toEnvironmentResponse), pagination };
  }

  @Delete(':id')
  @Audit({ action: 'environment.delete', resourceType: 'environment' })
  @ApiOperation({ summary: 'Delete any environment and its directory' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiNotFoundResponse({ description: 'No such environment', type: ErrorResponse })
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeleteEnvironmentCommand(actorOf(user), id));
    return { success: true };
  }
}
