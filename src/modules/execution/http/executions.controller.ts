import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiConflictResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyScopes, Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { CancelExecutionCommand } from '../commands/cancel-execution.command';
import { toExecutionResponse } from '../execution.mapper';
import { GetExecutionQuery } from '../queries/get-execution.query';
import { ListExecutionsQuery } from '../queries/list-executions.query';
import { ExecutionListResponse, ExecutionResponse, ListExecutionsRequest } from './dto/execution.dto';

@ApiTags('execution')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('executions')
export class ExecutionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'My runs, newest first (filters: status, language, from, to)' })
  @ApiOkResponse({ type: ExecutionListResponse })
  async list(@CurrentUser() user: Principal, @Query() query: ListExecutionsRequest): Promise<ExecutionListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListExecutionsQuery({ ...query, user_id: user.user_id }));
    return { executions: rows.map(toExecutionResponse), pagination };
  }

  @Get(':id')
  @ApiKeyScopes('execute')
  @ApiOperation({ summary: 'One run of mine, an admin anyone\'s (also how an async run is polled)' })
  @ApiOkResponse({ type: ExecutionResponse })
  @ApiNotFoundResponse({ description: 'No such run of yours', type: ErrorResponse })
  async get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<ExecutionResponse> {
    return toExecutionResponse(await this.queries.execute(new GetExecutionQuery(id, actorOf(user))));
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @ApiKeyScopes('execute')
  @Audit({ action: 'code.cancel', resourceType: 'execution' })
  @ApiOperation({ summary: 'Stop a queued or running run of mine (an admin: anyone\'s); it ends with status killed' })
  @ApiOkResponse({ type: ExecutionResponse })
  @ApiNotFoundResponse({ description: 'No such run of yours', type: ErrorResponse })
  @ApiConflictResponse({ description: 'The run already finished', type: ErrorResponse })
  async cancel(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<ExecutionResponse> {
    return toExecutionResponse(await this.commands.execute(new CancelExecutionCommand(id, actorOf(user))));
  }
}
