import { Body, Controller, Delete, Get, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../../common/auth/auth.decorators';
import { actorOf } from '../../../../common/auth/ownership';
import type { Principal } from '../../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../../common/errors/error-response.dto';
import { PageQuery } from '../../../../common/http/pagination';
import { UuidParam } from '../../../../common/http/uuid-param';
import { toAlertJson, toAlertRuleJson } from '../alert.mapper';
import { CreateAlertRuleCommand } from '../commands/create-alert-rule.command';
import { DeleteAlertRuleCommand } from '../commands/delete-alert-rule.command';
import { UpdateAlertRuleCommand } from '../commands/update-alert-rule.command';
import { ListAlertRulesQuery } from '../queries/list-alert-rules.query';
import { ListAlertsQuery } from '../queries/list-alerts.query';
import {
  AlertListResponse, AlertRuleListResponse, AlertRuleResponse, CreateAlertRuleRequest, DeletedAlertRuleResponse, ListAlertsRequest,
  UpdateAlertRuleRequest,
} from './dto/alert.dto';

const ruleNotFound = { description: 'No such alert rule of mine (an admin: of anyone\'s)', type: ErrorResponse };
const serverNotFound = 'or server_id names no server of mine';

/**
 * Alert rules and their alerts (JWT only: API keys answer 403). Rules are
 * evaluated every minute by the maintenance job alerts.evaluate; a firing
 * rule opens an alert (one per rule and server at a time) and notifies me
 * (`alert`), a rule that stops holding resolves it and notifies me again.
 */
@ApiTags('monitor')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('monitor')
export class AlertsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('alert-rules')
  @ApiOperation({ summary: 'My alert rules, newest first' })
  @ApiOkResponse({ type: AlertRuleListResponse })
  async listRules(@CurrentUser() user: Principal, @Query() query: PageQuery): Promise<AlertRuleListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListAlertRulesQuery(user.user_id, query));
    return { alert_rules: rows.map(toAlertRuleJson), pagination };
  }

  @Post('alert-rules')
  @Audit({ action: 'alert_rule.create', resourceType: 'alert_rule', resourceId: (r) => r.id, metadata: fieldsOf })
  @ApiOperation({
    summary: 'Create an alert rule',
    description:
      'Fires when the condition holds for duration_s, counted on sample timestamps; resolves when the latest sample no longer satisfies it ' +
      '(or no sample came in 10 minutes). server_offline fires when a monitored server\'s probes have said offline for duration_s.',
  })
  @ApiCreatedResponse({ type: AlertRuleResponse })
  @ApiNotFoundResponse({ description: `server_id names no server of mine`, type: ErrorResponse })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: an API key (JWT only), or I have MONITOR_MAX_ALERT_RULES_PER_USER rules already (details {limit, rules}; admins have no cap); ACCOUNT_DISABLED: the account is disabled', type: ErrorResponse })
  async createRule(@CurrentUser() user: Principal, @Body() body: CreateAlertRuleRequest): Promise<AlertRuleResponse> {
    return toAlertRuleJson(await this.commands.execute(new CreateAlertRuleCommand(actorOf(user), body)));
  }

  @Put('alert-rules/:id')
  @Audit({ action: 'alert_rule.update', resourceType: 'alert_rule', metadata: fieldsOf })
  @ApiOperation({
    summary: 'Change the fields given of one of my alert rules',
    description: 'Changing what it watches resolves its open alerts (rule_changed), disabling it too (rule_disabled); the next evaluation decides anew.',
  })
  @ApiOkResponse({ type: AlertRuleResponse })
  @ApiNotFoundResponse({ ...ruleNotFound, description: `${ruleNotFound.description}, ${serverNotFound}` })
  async updateRule(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateAlertRuleRequest): Promise<AlertRuleResponse> {
    return toAlertRuleJson(await this.commands.execute(new UpdateAlertRuleCommand(actorOf(user), id, body)));
  }

  @Delete('alert-rules/:id')
  @Audit({ action: 'alert_rule.delete', resourceType: 'alert_rule' })
  @ApiOperation({ summary: 'Delete one of my alert rules', description: 'Its open alerts are resolved (rule_deleted); its alerts stay listed, rule_id null.' })
  @ApiOkResponse({ type: DeletedAlertRuleResponse })
  @ApiNotFoundResponse(ruleNotFound)
  async deleteRule(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedAlertRuleResponse> {
    await this.commands.execute(new DeleteAlertRuleCommand(actorOf(user), id));
    return { success: true };
  }

  @Get('alerts')
  @ApiOperation({ summary: 'The alerts of my rules, open and resolved, newest first' })
  @ApiOkResponse({ type: AlertListResponse })
  async listAlerts(@CurrentUser() user: Principal, @Query() query: ListAlertsRequest): Promise<AlertListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListAlertsQuery(user.user_id, { status: query.status, serverId: query.server_id }, query));
    return { alerts: rows.map(toAlertJson), pagination };
  }
}
