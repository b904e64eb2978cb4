import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../../common/auth/auth.decorators';
import { actorOf } from '../../../../common/auth/ownership';
import type { Principal } from '../../../../common/auth/principal';
import { ErrorResponse } from '../../../../common/errors/error-response.dto';
import { NoQueryPipe } from '../../../../common/http/no-query.pipe';
import { toAlertJson } from '../alert.mapper';
import { GetMonitorDashboardQuery } from '../queries/get-monitor-dashboard.query';
import { DashboardResponse } from './dto/dashboard.dto';

/** GET /monitor/dashboard (JWT only). */
@ApiTags('monitor')
@Authenticated()
@Controller('monitor')
export class MonitorDashboardController {
  constructor(private readonly queries: QueryBus) {}

  @Get('dashboard')
  @ApiOperation({ summary: 'My monitor dashboard: the statistics of /monitor/stats, my newest open alerts, my latest activity' })
  @ApiOkResponse({ type: DashboardResponse })
  @ApiBadRequestResponse({ description: 'A query parameter was sent (this route takes none)', type: ErrorResponse })
  async dashboard(@CurrentUser() user: Principal, @Query(NoQueryPipe) _query: unknown): Promise<DashboardResponse> {
    const { stats, alerts, recentActivities } = await this.queries.execute(new GetMonitorDashboardQuery(actorOf(user)));
    return { stats, alerts: alerts.map(toAlertJson), recent_activities: recentActivities };
  }
}
