import { AlertsEvaluationJob } from './alerts-evaluation.job';
import { CreateAlertRuleHandler } from './commands/create-alert-rule.command';
import { DeleteAlertRuleHandler } from './commands/delete-alert-rule.command';
import { UpdateAlertRuleHandler } from './commands/update-alert-rule.command';
import { AlertsController } from './http/alerts.controller';
import { MonitorDashboardController } from './http/dashboard.controller';
import { GetMonitorDashboardHandler } from './queries/get-monitor-dashboard.query';
import { ListAlertRulesHandler } from './queries/list-alert-rules.query';
import { ListAlertsHandler } from './queries/list-alerts.query';
import { AlertRepository } from './repositories/alert.repository';
import { AlertRuleRepository } from './repositories/alert-rule.repository';

/**
 * The alerts part of the monitoring context, listed once for
 * monitoring.module.ts: alert rules (CRUD), their alerts, the alerts.evaluate
 * job and GET /monitor/dashboard. Sends CreateNotificationCommand
 * (notifications) and asks GetMonitorStatsQuery, GetServerQuery (monitoring)
 * and ListAuditLogsQuery (audit) through the global buses.
 */
export const ALERTS_CONTROLLERS = [AlertsController, MonitorDashboardController];

export const ALERTS_PROVIDERS = [
  AlertRuleRepository, AlertRepository,
  CreateAlertRuleHandler, UpdateAlertRuleHandler, DeleteAlertRuleHandler,
  ListAlertRulesHandler, ListAlertsHandler, GetMonitorDashboardHandler,
  AlertsEvaluationJob,
];
