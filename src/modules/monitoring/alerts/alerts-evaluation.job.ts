import { Injectable, OnModuleInit } from '@nestjs/common';
import { CommandBus, EventBus } from '@nestjs/cqrs';
import { RealtimeEvent } from '../../../common/events/realtime-event';
import { AppLogger } from '../../../common/logging/app-logger';
import { MaintenanceJobs } from '../../../common/scheduling/maintenance-jobs';
import { CreateNotificationCommand } from '../../notifications/commands/create-notification.command';
import { toAlertJson } from './alert.mapper';
import { AlertChange, AlertRepository } from './repositories/alert.repository';

export const ALERTS_JOB = 'alerts.evaluate';

/**
 * alerts.evaluate, every minute (UTC cron; one replica per tick, under the
 * maintenance context's advisory lock): one statement evaluates every enabled
 * rule on every server it covers (AlertRepository.evaluate), opening the
 * alerts that fire and resolving those whose condition stopped holding. An
 * alert therefore opens or resolves up to one minute (plus the agents' push
 * interval) after its condition changed.
 *
 * A sample rule fires when its latest sample (of the last 10 minutes)
 * satisfies it and so does every sample back to the last one at or before
 * latest - duration_s: the samples must span duration_s, so one spike never
 * fires (duration_s 0: the latest sample alone). server_offline fires when a
 * monitored server's probes have said offline for duration_s (checked_at -
 * status_since). Anything else resolves an open alert.
 *
 * Each change notifies the rule's owner (an `alert` notification, data.kind
 * `alert_rule`, beside the probes' `server_status` ones) and
 * publishes `update` on `server:<id>` with the alert. Sent from here, the
 * replica that made the change, once.
 */
@Injectable()
export class AlertsEvaluationJob implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly alerts: AlertRepository,
    private readonly commands: CommandBus,
    private readonly events: EventBus,
    private readonly logger: AppLogger,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: ALERTS_JOB,
      description: 'Evaluate the enabled alert rules on their servers\' samples and probes: open alerts that fire, resolve those that stopped',
      schedule: '* * * * *',
      run: (now) => this.evaluate(now),
    });
  }

  async evaluate(now: Date): Promise<{ opened: number; resolved: number }> {
    const changes = await this.alerts.evaluate(now);
    for (const change of changes) await this.announce(change);
    return {
      opened: changes.filter((change) => change.change === 'opened').length,
      resolved: changes.filter((change) => change.change === 'resolved').length,
    };
  }

  private async announce(change: AlertChange): Promise<void> {
    const alert = toAlertJson(change);
    this.events.publish(new RealtimeEvent(`server:${change.serverId}`, 'update', { server_id: change.serverId, alert }));
    // A resolution because the rule was deleted meanwhile is the owner's own doing: nothing to tell.
    if (change.change === 'resolved' && change.resolution !== 'recovered') return;
    const server = change.serverName ? `“${change.serverName}”` : 'a server';
    const title = change.change === 'opened' ? `Alert on ${server}: ${change.message}` : `Resolved on ${server}: ${change.message}`;
    try {
      await this.commands.execute(
        new CreateNotificationCommand(change.userId, 'alert', title, '', {
          kind: 'alert_rule', alert_id: change.id, rule_id: change.ruleId, server_id: change.serverId, status: change.status, metric: change.metric, value: change.value,
        }),
      );
    } catch (failure) {
      this.logger.pino.warn({ err: failure, alert: change.id }, 'alert notification not stored');
    }
  }
}
