import { Body, Controller, Delete, Get, HttpCode, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiBody, ApiCreatedResponse, ApiExtraModels, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath,
} from '@nestjs/swagger';
import { ApiKeyScopes, Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { NoQueryPipe } from '../../../common/http/no-query.pipe';
import { parseUuid, UuidParam } from '../../../common/http/uuid-param';
import { PushServerMetricsCommand } from '../commands/push-server-metrics.command';
import { SetMonitoringCommand } from '../commands/set-monitoring.command';
import { MAX_BATCH } from '../metric-samples';
import { GetMonitorStatsQuery } from '../queries/get-monitor-stats.query';
import { GetServerHistoryQuery } from '../queries/get-server-history.query';
import { GetServerMetricsQuery } from '../queries/get-server-metrics.query';
import { GetServerStatusQuery } from '../queries/get-server-status.query';
import {
  LatestMetricsResponse, MonitorStatsResponse, PushedSample, PushMetricsRequest, PushMetricsResponse, ServerHistoryRequest, ServerHistoryResponse,
  ServerStatusResponse,
} from './dto/monitor.dto';
import { ServerEnvelope, StartMonitoringRequest } from './dto/server.dto';

const notFound = { description: 'No such server of mine', type: ErrorResponse };

/**
 * Monitoring: starting and stopping probes, the servers' status, latest
 * metrics and history, agents' pushes, and the caller's figures at a glance.
 */
@ApiTags('monitoring')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@ApiExtraModels(PushMetricsRequest, PushedSample)
@Controller('monitor')
export class MonitorController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('stats')
  @Authenticated()
  @ApiOperation({ summary: 'My servers (online, offline), deployments, runs today and request error rate (an admin\'s servers include local)' })
  @ApiOkResponse({ type: MonitorStatsResponse })
  stats(@CurrentUser() user: Principal, @Query(NoQueryPipe) _query: unknown): Promise<MonitorStatsResponse> {
    return this.queries.execute(new GetMonitorStatsQuery(actorOf(user)));
  }

  @Post('servers')
  @Authenticated()
  @Audit({ action: 'server.monitor', resourceType: 'server', resourceId: (r) => (r as ServerEnvelope).server?.id })
  @ApiOperation({ summary: 'Start probing a server of mine (from the next servers.probe round; idempotent)' })
  @ApiCreatedResponse({ type: ServerEnvelope })
  @ApiNotFoundResponse(notFound)
  async start(@CurrentUser() user: Principal, @Body() body: StartMonitoringRequest): Promise<ServerEnvelope> {
    return { server: await this.commands.execute(new SetMonitoringCommand(actorOf(user), parseUuid(body.server_id, 'server_id'), true)) };
  }

  @Delete('servers/:id')
  @Authenticated()
  @Audit({ action: 'server.unmonitor', resourceType: 'server' })
  @ApiOperation({ summary: 'Stop probing a server of mine (its status becomes unknown; idempotent)' })
  @ApiOkResponse({ type: ServerEnvelope })
  @ApiNotFoundResponse(notFound)
  async stop(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<ServerEnvelope> {
    return { server: await this.commands.execute(new SetMonitoringCommand(actorOf(user), id, false)) };
  }

  @Post('servers/:id/metrics')
  @HttpCode(201)
  @ApiKeyScopes('metrics:write')
  @Audit({ action: 'server.metrics_push', resourceType: 'server', metadata: (request) => ({ samples: countSamples(request.body) }) })
  @ApiOperation({
    summary: 'An agent\'s samples of a server of mine (bin/coderunner-agent pushes these)',
    description:
      `{samples: [...]} (1 to ${MAX_BATCH}) or one sample bare. All or nothing: one bad sample stores none, and each problem is named by its place ` +
      '(samples[3].cpu_percent). An API key needs the scope metrics:write and its owner must own the server (an admin\'s key: ' +
      'their own servers and local, never a user\'s); a user\'s session may push too (an admin\'s: to any server).',
  })
  @ApiBody({ schema: { oneOf: [{ $ref: getSchemaPath(PushMetricsRequest) }, { $ref: getSchemaPath(PushedSample) }] } })
  @ApiCreatedResponse({ type: PushMetricsResponse })
  @ApiNotFoundResponse(notFound)
  push(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: unknown): Promise<PushMetricsResponse> {
    return this.commands.execute(new PushServerMetricsCommand(actorOf(user), id, body, user.via === 'api_key'));
  }

  @Get('servers/:id/metrics')
  @Authenticated()
  @ApiOperation({ summary: 'A server\'s newest sample' })
  @ApiOkResponse({ type: LatestMetricsResponse })
  @ApiNotFoundResponse(notFound)
  latest(@CurrentUser() user: Principal, @UuidParam() id: string, @Query(NoQueryPipe) _query: unknown): Promise<LatestMetricsResponse> {
    return this.queries.execute(new GetServerMetricsQuery(id, actorOf(user)));
  }

  @Get('servers/:id/status')
  @Authenticated()
  @ApiOperation({ summary: 'A server\'s probe verdict: online, offline or unknown, latency, when' })
  @ApiOkResponse({ type: ServerStatusResponse })
  @ApiNotFoundResponse(notFound)
  status(@CurrentUser() user: Principal, @UuidParam() id: string, @Query(NoQueryPipe) _query: unknown): Promise<ServerStatusResponse> {
    return this.queries.execute(new GetServerStatusQuery(id, actorOf(user)));
  }

  @Get('servers/:id/history')
  @Authenticated()
  @ApiOperation({
    summary: 'A server\'s metric over a time range, in a fixed number of buckets',
    description: '1h: 60 points, 6h: 72, 24h: 96, 7d: 84, aligned on the bucket size, the last holding now; `value` is null where no sample fell.',
  })
  @ApiOkResponse({ type: ServerHistoryResponse })
  @ApiNotFoundResponse(notFound)
  history(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: ServerHistoryRequest): Promise<ServerHistoryResponse> {
    return this.queries.execute(new GetServerHistoryQuery(id, actorOf(user), query.metric, query.time_range));
  }
}

/** How many samples a push carried, for its audit entry (nothing of their values). */
function countSamples(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const samples = (body as { samples?: unknown }).samples;
  return Array.isArray(samples) ? samples.length : 1;
}
