import { Body, Controller, Delete, Get, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiProperty, ApiTags,
} from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { CreateServerCommand } from '../commands/create-server.command';
import { DeleteServerCommand } from '../commands/delete-server.command';
import { UpdateServerCommand } from '../commands/update-server.command';
import { GetServerQuery } from '../queries/get-server.query';
import { ListServersQuery } from '../queries/list-servers.query';
import { toServerView } from '../server.mapper';
import { CreateServerRequest, ListServersRequest, ServerEnvelope, ServerListResponse, UpdateServerRequest } from './dto/server.dto';

const notFound = { description: 'No such server of mine', type: ErrorResponse };

class SuccessResponse {
  @ApiProperty({ example: true }) success!: boolean;
}

/** Servers: the machines a user watches (probes, agents' metrics); the platform's own, `local`, is an admin's. */
@ApiTags('servers')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('servers')
export class ServersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Audit({ action: 'server.create', resourceType: 'server', resourceId: (r) => (r as ServerEnvelope).server?.id, metadata: (request) => ({ name: (request.body as { name?: unknown } | undefined)?.name }) })
  @ApiOperation({
    summary: 'Add a server to watch',
    description:
      'monitored: true has it probed (a TCP connect to host:port) from the next round. A user\'s (not an admin\'s) host may not be a loopback, ' +
      'unspecified, link-local, metadata, multicast or reserved address, one of the platform\'s own, nor a private one unless ' +
      'MONITOR_ALLOW_PRIVATE_HOSTS=true (400 on host); a name is checked on the address it resolves to at each probe.',
  })
  @ApiCreatedResponse({ type: ServerEnvelope })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: an API key (sessions only), or I have MONITOR_MAX_SERVERS_PER_USER servers already (details {limit, servers}; admins have no cap); ACCOUNT_DISABLED: the account is disabled', type: ErrorResponse })
  async create(@CurrentUser() user: Principal, @Body() body: CreateServerRequest): Promise<ServerEnvelope> {
    return { server: await this.commands.execute(new CreateServerCommand(actorOf(user), body)) };
  }

  @Get()
  @ApiOperation({ summary: 'My servers, newest first (an admin\'s list holds the platform\'s own, local, too)' })
  @ApiOkResponse({ type: ServerListResponse })
  list(@CurrentUser() user: Principal, @Query() query: ListServersRequest): Promise<ServerListResponse> {
    return this.queries.execute(new ListServersQuery(actorOf(user), query.page, query.limit));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One server of mine (an admin: anyone\'s, local included)' })
  @ApiOkResponse({ type: ServerEnvelope })
  @ApiNotFoundResponse(notFound)
  async get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<ServerEnvelope> {
    return { server: toServerView(await this.queries.execute(new GetServerQuery(id, actorOf(user)))) };
  }

  @Put(':id')
  @Audit({ action: 'server.update', resourceType: 'server', metadata: fieldsOf })
  @ApiOperation({ summary: 'Change a server: the fields sent are set, the others stay' })
  @ApiOkResponse({ type: ServerEnvelope })
  @ApiNotFoundResponse(notFound)
  async update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateServerRequest): Promise<ServerEnvelope> {
    return { server: await this.commands.execute(new UpdateServerCommand(actorOf(user), id, body)) };
  }

  @Delete(':id')
  @Audit({ action: 'server.delete', resourceType: 'server' })
  @ApiOperation({ summary: 'Remove a server and its metrics' })
  @ApiOkResponse({ type: SuccessResponse })
  @ApiNotFoundResponse(notFound)
  @ApiConflictResponse({ description: 'CONFLICT: the platform\'s own server (local) stays', type: ErrorResponse })
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<SuccessResponse> {
    await this.commands.execute(new DeleteServerCommand(actorOf(user), id));
    return { success: true };
  }
}
