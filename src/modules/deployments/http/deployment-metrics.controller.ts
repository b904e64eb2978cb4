import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, ApiKeyScopes, Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { NoQueryPipe } from '../../../common/http/no-query.pipe';
import { UuidParam } from '../../../common/http/uuid-param';
import { GetDeploymentQuery } from '../queries/get-deployment.query';
import { GetDeploymentMetricsQuery } from '../queries/get-deployment-metrics.query';
import { GetMetricsSummaryQuery } from '../queries/get-metrics-summary.query';
import { ListLiveSandboxesQuery } from '../queries/list-live-sandboxes.query';
import {
  DeploymentMetricsRequest, DeploymentMetricsResponse, LiveSandboxListResponse, MetricsSummaryRequest, MetricsSummaryResponse,
} from './dto/deployment-metrics.dto';

/**
 * Deployments' metrics: what sandbox_metrics holds (sampled by each replica,
 * metrics.sample_deployments) as time series and totals, and the admin's view
 * of the sandboxes running on the replica that answers.
 */
@ApiTags('deployments')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller()
export class DeploymentMetricsController {
  constructor(private readonly queries: QueryBus) {}

  @Get('deployments/:id/metrics')
  @ApiKeyScopes('deployments:read')
  @ApiOperation({
    summary: 'A deployment\'s CPU, memory, disk and requests over time',
    description: 'A fixed number of points (period ÷ resolution, at most 1000), aligned on the resolution, the last one holding now; `value` is null where no sample fell.',
  })
  @ApiOkResponse({ type: DeploymentMetricsResponse })
  @ApiNotFoundResponse({ description: 'No such deployment of mine', type: ErrorResponse })
  async series(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: DeploymentMetricsRequest): Promise<DeploymentMetricsResponse> {
    await this.queries.execute(new GetDeploymentQuery(id, actorOf(user)));
    return this.queries.execute(new GetDeploymentMetricsQuery(id, query));
  }

  @Get('metrics/summary')
  @Authenticated()
  @ApiOperation({ summary: 'My deployments at a glance: how many, how many running, requests and error rate over the period (admins: everyone\'s with all=true)' })
  @ApiOkResponse({ type: MetricsSummaryResponse })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: all=true from someone who is not an admin', type: ErrorResponse })
  summary(@CurrentUser() user: Principal, @Query() query: MetricsSummaryRequest): Promise<MetricsSummaryResponse> {
    return this.queries.execute(new GetMetricsSummaryQuery(actorOf(user), query.all === 'true', query.period));
  }

  @Get('admin/sandboxes')
  @AdminOnly()
  @ApiTags('admin')
  @ApiOperation({ summary: 'The apps running on the replica that answers, with their process, CPU, memory, disk and uptime' })
  @ApiOkResponse({ type: LiveSandboxListResponse })
  sandboxes(@Query(NoQueryPipe) _query: unknown): Promise<LiveSandboxListResponse> {
    return this.queries.execute(new ListLiveSandboxesQuery());
  }
}
