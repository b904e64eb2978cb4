import { Body, Controller, Delete, Get, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { PageQuery } from '../../../common/http/pagination';
import { UuidParam } from '../../../common/http/uuid-param';
import { CreateEnvironmentCommand } from '../commands/create-environment.command';
import { DeleteEnvironmentCommand } from '../commands/delete-environment.command';
import { UpdateEnvironmentCommand } from '../commands/update-environment.command';
import { toEnvironmentResponse } from '../environment.mapper';
import { GetUserEnvironmentQuery } from '../queries/get-user-environment.query';
import { ListUserEnvironmentsQuery } from '../queries/list-user-environments.query';
import { requirementName } from '../requirement';
import { CreateEnvironmentRequest, DeletedResponse, EnvironmentListResponse, EnvironmentResponse, UpdateEnvironmentRequest } from './dto/environment.dto';

// Field names and package names only: never versions or anything else of the body.
const createMetadata = (request: FastifyRequest) => {
  const packages = (request.body as { packages?: unknown } | undefined)?.packages;
  return { ...fieldsOf(request), ...(Array.isArray(packages) ? { packages: packages.map((p) => requirementName(String(p))) } : {}) };
};

@ApiTags('environments')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('user-environments')
export class UserEnvironmentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Audit({ action: 'environment.create', resourceType: 'environment', resourceId: (r) => r.id, metadata: createMetadata })
  @ApiOperation({
    summary: 'Create a Python environment, then install its packages',
    description: 'A venv; a conda environment when `python_version` is given and conda is available. `packages` are installed with pip.',
  })
  @ApiCreatedResponse({ type: EnvironmentResponse })
  @ApiForbiddenResponse({ description: 'The plan\'s environment limit is reached (details.limit)', type: ErrorResponse })
  @ApiConflictResponse({ description: 'You already have an environment with this name', type: ErrorResponse })
  @ApiUnprocessableEntityResponse({ description: 'That Python version is not available, or pip could not install a package (details.output)', type: ErrorResponse })
  async create(@CurrentUser() user: Principal, @Body() body: CreateEnvironmentRequest): Promise<EnvironmentResponse> {
    const owner = { ...actorOf(user), level: user.level };
    return toEnvironmentResponse(await this.commands.execute(new CreateEnvironmentCommand(owner, body)));
  }

  @Get()
  @ApiOperation({ summary: 'My environments, newest first' })
  @ApiOkResponse({ type: EnvironmentListResponse })
  async list(@CurrentUser() user: Principal, @Query() query: PageQuery): Promise<EnvironmentListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListUserEnvironmentsQuery(user.user_id, query.page, query.limit));
    return { environments: rows.map(toEnvironmentResponse), pagination };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One environment: mine, or a public one' })
  @ApiOkResponse({ type: EnvironmentResponse })
  @ApiNotFoundResponse({ description: 'No such environment, or another user\'s private one', type: ErrorResponse })
  async get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<EnvironmentResponse> {
    return toEnvironmentResponse(await this.queries.execute(new GetUserEnvironmentQuery(actorOf(user), id)));
  }

  @Put(':id')
  @Audit({ action: 'environment.update', resourceType: 'environment', metadata: fieldsOf })
  @ApiOperation({ summary: 'Change the name, description or is_public of one of my environments' })
  @ApiOkResponse({ type: EnvironmentResponse })
  @ApiForbiddenResponse({ description: 'Another user\'s public environment', type: ErrorResponse })
  @ApiNotFoundResponse({ description: 'No such environment, or another user\'s private one', type: ErrorResponse })
  @ApiConflictResponse({ description: 'The owner already has an environment with this name', type: ErrorResponse })
  async update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateEnvironmentRequest): Promise<EnvironmentResponse> {
    return toEnvironmentResponse(await this.commands.execute(new UpdateEnvironmentCommand(actorOf(user), id, body)));
  }

  @Delete(':id')
  @Audit({ action: 'environment.delete', resourceType: 'environment' })
  @ApiOperation({ summary: 'Delete one of my environments and its directory' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiForbiddenResponse({ description: 'Another user\'s public environment', type: ErrorResponse })
  @ApiNotFoundResponse({ description: 'No such environment, or another user\'s private one', type: ErrorResponse })
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeleteEnvironmentCommand(actorOf(user), id));
    return { success: true };
  }
}
