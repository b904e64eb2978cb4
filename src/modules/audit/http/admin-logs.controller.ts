import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { NoQueryPipe } from '../../../common/http/no-query.pipe';
import { AdminOnly } from '../../../common/auth/auth.decorators';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { AuditLogStatsQuery } from '../queries/audit-log-stats.query';
import { ListAuditLogsQuery } from '../queries/list-audit-logs.query';
import { ListAuditValuesQuery } from '../queries/list-audit-values.query';
import {
  ActionListResponse, AdminLogsRequest, AuditLogListResponse, AuditLogStatsResponse, PeriodRequest, ResourceTypeListResponse,
} from './dto/audit-log.dto';

@ApiTags('admin')
@AdminOnly()
@ApiBadRequestResponse({ type: ErrorResponse })
@Controller('admin/logs')
export class AdminLogsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'The audit log, newest first (default period: the last 30 days)' })
  @ApiOkResponse({ type: AuditLogListResponse })
  list(@Query() query: AdminLogsRequest): Promise<AuditLogListResponse> {
    return this.queries.execute(new ListAuditLogsQuery({ ...query, page: query.page, limit: query.limit }));
  }

  @Get('stats')
  @ApiOperation({ summary: 'Counts by action, by day and by user, and the error rate, over a period (default: the last 30 days)' })
  @ApiOkResponse({ type: AuditLogStatsResponse })
  stats(@Query() query: PeriodRequest): Promise<AuditLogStatsResponse> {
    return this.queries.execute(new AuditLogStatsQuery(query.from, query.to));
  }

  @Get('actions')
  @ApiOperation({ summary: 'Every action name in the log' })
  @ApiOkResponse({ type: ActionListResponse })
  async actions(@Query(NoQueryPipe) _query: unknown): Promise<ActionListResponse> {
    return { actions: await this.queries.execute(new ListAuditValuesQuery('action')) };
  }

  @Get('resource-types')
  @ApiOperation({ summary: 'Every resource type in the log' })
  @ApiOkResponse({ type: ResourceTypeListResponse })
  async resourceTypes(@Query(NoQueryPipe) _query: unknown): Promise<ResourceTypeListResponse> {
    return { resource_types: await this.queries.execute(new ListAuditValuesQuery('resource_type')) };
  }
}
