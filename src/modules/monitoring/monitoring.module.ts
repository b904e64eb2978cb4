import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { ExecutionModule } from '../execution/execution.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { CreateServerHandler } from './commands/create-server.command';
import { DeleteServerHandler } from './commands/delete-server.command';
import { PushServerMetricsHandler } from './commands/push-server-metrics.command';
import { SetMonitoringHandler } from './commands/set-monitoring.command';
import { UpdateServerHandler } from './commands/update-server.command';
import { HostSamplingJob } from './host/host-sampling.job';
import { MetricsIngest } from './ingest/metrics-ingest';
import { LocalServer } from './host/local-server';
import { MonitorController } from './http/monitor.controller';
import { ServersController } from './http/servers.controller';
import { ServerProbeJob } from './probes/server-probe.job';
import { ServerProber } from './probes/server-prober';
import { GetMonitorStatsHandler } from './queries/get-monitor-stats.query';
import { GetServerHistoryHandler } from './queries/get-server-history.query';
import { GetServerMetricsHandler } from './queries/get-server-metrics.query';
import { GetServerStatusHandler } from './queries/get-server-status.query';
import { GetServerHandler } from './queries/get-server.query';
import { ListServersHandler } from './queries/list-servers.query';
import { ALERTS_CONTROLLERS, ALERTS_PROVIDERS } from './alerts/alerts.providers';
import { ServerMetricsRepository } from './repositories/server-metrics.repository';
import { ServerRepository } from './repositories/server.repository';

/**
 * Monitoring: servers (owner-scoped; the platform's own host is `local`,
 * an admin's), their TCP probes (servers.probe), the local host's sampling
 * (metrics.sample_host, from /proc), agents' metric pushes, server_metrics
 * history in time buckets, and the monitor statistics.
 */
@Module({
  imports: [
    // Notifications: CreateNotificationCommand (a server's status changed).
    NotificationsModule,
    // GetMonitorStatsQuery's figures: GetMetricsSummaryQuery (deployments), GetExecutionStatsQuery (execution), ListAuditLogsQuery (audit).
    DeploymentsModule,
    ExecutionModule,
    AuditModule,
  ],
  controllers: [ServersController, MonitorController, ...ALERTS_CONTROLLERS],
  providers: [
    ServerRepository, ServerMetricsRepository, MetricsIngest, LocalServer, ServerProber, ServerProbeJob, HostSamplingJob,
    CreateServerHandler, UpdateServerHandler, DeleteServerHandler, SetMonitoringHandler, PushServerMetricsHandler,
    GetServerHandler, ListServersHandler, GetServerMetricsHandler, GetServerStatusHandler, GetServerHistoryHandler, GetMonitorStatsHandler,
    // Alert rules, alerts, alerts.evaluate and GET /monitor/dashboard (alerts/).
    ...ALERTS_PROVIDERS,
  ],
})
export class MonitoringModule {}
