import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { ApiKeyScopes, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { CreateDeploymentCommand } from '../commands/create-deployment.command';
import { DeleteDeploymentCommand } from '../commands/delete-deployment.command';
import { RestartDeploymentCommand } from '../commands/restart-deployment.command';
import { RollbackDeploymentCommand } from '../commands/rollback-deployment.command';
import { UpdateDeploymentCommand } from '../commands/update-deployment.command';
import { StopDeploymentCommand } from '../commands/stop-deployment.command';
import { toDeploymentView } from '../deployment.mapper';
import { GetDeploymentQuery } from '../queries/get-deployment.query';
import { ListDeploymentLogsQuery } from '../queries/list-deployment-logs.query';
import { ListDeploymentVersionsQuery } from '../queries/list-deployment-versions.query';
import { DeploymentLogListResponse, DeploymentLogsRequest } from './dto/deployment-logs.dto';
import { ListDeploymentsQuery } from '../queries/list-deployments.query';
import {
  CreateDeploymentRequest, DeploymentEnvelope, DeploymentListResponse, ListDeploymentsRequest, RollbackDeploymentRequest, UpdateDeploymentRequest, VersionListResponse,
} from './dto/deployment.dto';

const notFound = { description: 'No such deployment of mine', type: ErrorResponse };

class SuccessResponse {
  @ApiProperty({ example: true }) success!: boolean;
}

@ApiTags('deployments')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('deployments')
export class DeploymentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiKeyScopes('deployments:write')
  @Audit({ action: 'deployment.create', resourceType: 'deployment', resourceId: (r) => (r as DeploymentEnvelope).deployment?.id, metadata: (request) => ({ name: (request.body as { name?: unknown } | undefined)?.name }) })
  @ApiOperation({
    summary: 'Deploy an app from its files',
    description:
      'Version 1 is stored and started in the background: the answer is the deployment as pending; its progress is on the WebSocket channel deployment:<id> and in GET /deployments/:id. ' +
      'The app runs in a sandbox with a network namespace of its own and answers at `endpoint` (/d/<id>/) through the platform\'s proxy.',
  })
  @ApiCreatedResponse({ type: DeploymentEnvelope })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: the plan\'s running deployments are all in use (stop one first), or the API key lacks deployments:write', type: ErrorResponse })
  @ApiTooManyRequestsResponse({ description: 'QUOTA_EXCEEDED: the plan\'s new deployments per day are used, or RATE_LIMITED', type: ErrorResponse })
  async create(@CurrentUser() user: Principal, @Body() body: CreateDeploymentRequest): Promise<DeploymentEnvelope> {
    return { deployment: toDeploymentView(await this.commands.execute(new CreateDeploymentCommand(user, body))) };
  }

  @Get()
  @ApiKeyScopes('deployments:read')
  @ApiOperation({ summary: 'My deployments, newest first' })
  @ApiOkResponse({ type: DeploymentListResponse })
  list(@CurrentUser() user: Principal, @Query() query: ListDeploymentsRequest): Promise<DeploymentListResponse> {
    return this.queries.execute(new ListDeploymentsQuery(user.user_id, query.status, query.page, query.limit));
  }

  @Get(':id')
  @ApiKeyScopes('deployments:read')
  @ApiOperation({ summary: 'One deployment of mine (an admin: anyone\'s)' })
  @ApiOkResponse({ type: DeploymentEnvelope })
  @ApiNotFoundResponse(notFound)
  async get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeploymentEnvelope> {
    return { deployment: toDeploymentView(await this.queries.execute(new GetDeploymentQuery(id, actorOf(user)))) };
  }

  @Patch(':id')
  @ApiKeyScopes('deployments:write')
  @Audit({ action: 'deployment.update', resourceType: 'deployment', metadata: fieldsOf })
  @ApiOperation({
    summary: 'Rename a deployment, or change its files or config: a new version, put in place without downtime',
    description: 'The new version starts beside the running one and takes the traffic once it answers its health check; if it fails, the old one serves on and `error` says why.',
  })
  @ApiOkResponse({ type: DeploymentEnvelope })
  @ApiNotFoundResponse(notFound)
  async update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateDeploymentRequest): Promise<DeploymentEnvelope> {
    return { deployment: toDeploymentView(await this.commands.execute(new UpdateDeploymentCommand(actorOf(user), id, body))) };
  }

  @Post(':id/rollback')
  @HttpCode(200)
  @ApiKeyScopes('deployments:write')
  @Audit({ action: 'deployment.rollback', resourceType: 'deployment', metadata: (request) => ({ version_number: (request.body as { version_number?: unknown } | undefined)?.version_number }) })
  @ApiOperation({ summary: 'A new version made from an earlier one, put in place as a change is (history stays linear)' })
  @ApiOkResponse({ type: DeploymentEnvelope })
  @ApiNotFoundResponse({ description: 'No such deployment of mine, or no such version', type: ErrorResponse })
  async rollback(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: RollbackDeploymentRequest): Promise<DeploymentEnvelope> {
    return { deployment: toDeploymentView(await this.commands.execute(new RollbackDeploymentCommand(actorOf(user), id, body.version_number))) };
  }

  @Get(':id/versions')
  @ApiKeyScopes('deployments:read')
  @ApiOperation({ summary: 'A deployment\'s versions, newest first' })
  @ApiOkResponse({ type: VersionListResponse })
  @ApiNotFoundResponse(notFound)
  versions(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<VersionListResponse> {
    return this.queries.execute(new ListDeploymentVersionsQuery(id, actorOf(user)));
  }

  @Get(':id/logs')
  @ApiKeyScopes('deployments:read')
  @ApiOperation({ summary: 'A deployment\'s logs, newest first: its output and the platform\'s events (next_cursor for more)' })
  @ApiOkResponse({ type: DeploymentLogListResponse })
  @ApiNotFoundResponse(notFound)
  async logs(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: DeploymentLogsRequest): Promise<DeploymentLogListResponse> {
    await this.queries.execute(new GetDeploymentQuery(id, actorOf(user)));
    return this.queries.execute(new ListDeploymentLogsQuery(id, query));
  }

  @Post(':id/stop')
  @HttpCode(200)
  @ApiKeyScopes('deployments:write')
  @Audit({ action: 'deployment.stop', resourceType: 'deployment' })
  @ApiOperation({ summary: 'Stop a deployment; answers once it is stopped (it stays stopped across platform restarts)' })
  @ApiOkResponse({ type: DeploymentEnvelope })
  @ApiNotFoundResponse(notFound)
  @ApiConflictResponse({ description: 'CONFLICT: it is stopped or stopping already', type: ErrorResponse })
  async stop(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeploymentEnvelope> {
    return { deployment: toDeploymentView(await this.commands.execute(new StopDeploymentCommand(actorOf(user), id))) };
  }

  @Post(':id/restart')
  @HttpCode(200)
  @ApiKeyScopes('deployments:write')
  @Audit({ action: 'deployment.restart', resourceType: 'deployment' })
  @ApiOperation({ summary: 'Start a deployment\'s current version again; answers restarting at once' })
  @ApiOkResponse({ type: DeploymentEnvelope })
  @ApiNotFoundResponse(notFound)
  @ApiConflictResponse({ description: 'CONFLICT: it is on its way somewhere (building, starting, stopping, restarting)', type: ErrorResponse })
  async restart(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeploymentEnvelope> {
    return { deployment: toDeploymentView(await this.commands.execute(new RestartDeploymentCommand(user, id))) };
  }

  @Delete(':id')
  @ApiKeyScopes('deployments:write')
  @Audit({ action: 'deployment.delete', resourceType: 'deployment' })
  @ApiOperation({ summary: 'Stop a deployment and remove it, its versions, files and logs' })
  @ApiOkResponse({ type: SuccessResponse })
  @ApiNotFoundResponse(notFound)
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<SuccessResponse> {
    await this.commands.execute(new DeleteDeploymentCommand(actorOf(user), id));
    return { success: true };
  }
}
