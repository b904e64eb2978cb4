import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { NoQueryPipe } from '../../../common/http/no-query.pipe';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { ListAuditLogsQuery } from '../queries/list-audit-logs.query';
import { ListAuditValuesQuery } from '../queries/list-audit-values.query';
import { ActionListResponse, AuditLogListResponse, ProfileLogsRequest, ResourceTypeListResponse } from './dto/audit-log.dto';

/** The caller's own audit trail. */
@ApiTags('profile')
@Authenticated()
@ApiBadRequestResponse({ type: ErrorResponse })
@Controller('profile/logs')
export class ProfileLogsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'My audit log entries, newest first (default period: the last 30 days)' })
  @ApiOkResponse({ type: AuditLogListResponse })
  list(@CurrentUser() user: Principal, @Query() query: ProfileLogsRequest): Promise<AuditLogListResponse> {
    return this.queries.execute(new ListAuditLogsQuery({ ...query, page: query.page, limit: query.limit, user_id: user.user_id }));
  }

  @Get('actions')
  @ApiOperation({ summary: 'The actions in my audit log' })
  @ApiOkResponse({ type: ActionListResponse })
  async actions(@CurrentUser() user: Principal, @Query(NoQueryPipe) _query: unknown): Promise<ActionListResponse> {
    return { actions: await this.queries.execute(new ListAuditValuesQuery('action', user.user_id)) };
  }

  @Get('resource-types')
  @ApiOperation({ summary: 'The resource types in my audit log' })
  @ApiOkResponse({ type: ResourceTypeListResponse })
  async resourceTypes(@CurrentUser() user: Principal, @Query(NoQueryPipe) _query: unknown): Promise<ResourceTypeListResponse> {
    return { resource_types: await this.queries.execute(new ListAuditValuesQuery('resource_type', user.user_id)) };
  }
}
