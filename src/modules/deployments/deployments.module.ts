import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { FilesModule } from '../files/files.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { CreateDeploymentHandler } from './commands/create-deployment.command';
import { DeleteDeploymentHandler } from './commands/delete-deployment.command';
import { RestartDeploymentHandler } from './commands/restart-deployment.command';
import { RollbackDeploymentHandler } from './commands/rollback-deployment.command';
import { UpdateDeploymentHandler } from './commands/update-deployment.command';
import { DeploymentLimits } from './deployment-limits';
import { DeploymentVersions } from './deployment-versions';
import { VersionFiles } from './version-files';
import { VersionPublisher } from './version-publisher';
import { StopDeploymentHandler } from './commands/stop-deployment.command';
import { DeploymentsController } from './http/deployments.controller';
import { DeploymentMetricsController } from './http/deployment-metrics.controller';
import { LIVE_APPS } from './metrics/live-apps';
import { MetricsSamplingJob } from './metrics/metrics-sampling.job';
import { SandboxMetricsSampler } from './metrics/sandbox-metrics-sampler';
import { SandboxMetricsRepository } from './metrics/sandbox-metrics.repository';
import { CountDeploymentsByStatusHandler } from './queries/count-deployments-by-status.query';
import { GetDeploymentMetricsHandler } from './queries/get-deployment-metrics.query';
import { GetMetricsSummaryHandler } from './queries/get-metrics-summary.query';
import { ListLiveSandboxesHandler } from './queries/list-live-sandboxes.query';
import { DeploymentLogRepository } from './logs/deployment-log.repository';
import { DeploymentLogWriter } from './logs/deployment-log-writer';
import { ListDeploymentLogsHandler } from './queries/list-deployment-logs.query';
import { DeploymentProxy } from './proxy/deployment-proxy';
import { GetDeploymentHandler } from './queries/get-deployment.query';
import { ListDeploymentVersionsHandler } from './queries/list-deployment-versions.query';
import { ListDeploymentsHandler } from './queries/list-deployments.query';
import { DeploymentRepository } from './repositories/deployment.repository';
import { DeploymentRunner } from './runtime/deployment-runner';
import { AppResources } from './runtime/app-resources';
import { ReconcileJob } from './runtime/reconcile.job';
import { DeploymentControl } from './runtime/deployment-control';
import { DeploymentLeases } from './runtime/deployment-leases';
import { DeploymentLeaseRepository } from './repositories/deployment-lease.repository';

/**
 * Deployments: users' apps kept running in sandboxes of their own
 * (runtime/app-sandbox.ts: own network namespace, reached through a Unix
 * socket), started, health-checked, restarted on crashes and brought back on
 * start-up by DeploymentRunner, and reached at /d/<id>/ through DeploymentProxy.
 * Their output and platform events go to deployment_logs (DeploymentLogWriter)
 * and live to the deployment:<id> channel.
 */
@Module({
  imports: [
    // Identity: AuthenticateTokenQuery (the proxy's private deployments), GetUserQuery (an app owner's plan).
    IdentityModule,
    // Plans: GetPlanQuery (deployments_per_day, max_running_deployments, deployment_memory_mb), through the global query bus.
    // Notifications: CreateNotificationCommand (deployment_status).
    NotificationsModule,
    // Files: Blobs (each version's files are held in the blob store like any file).
    FilesModule,
  ],
  controllers: [DeploymentsController, DeploymentMetricsController],
  providers: [
    DeploymentRepository, DeploymentRunner, AppResources, ReconcileJob, DeploymentProxy, DeploymentLogRepository, DeploymentLogWriter,
    DeploymentVersions, DeploymentLimits, VersionFiles, VersionPublisher,
    DeploymentLeaseRepository, DeploymentLeases, DeploymentControl,
    CreateDeploymentHandler, UpdateDeploymentHandler, RollbackDeploymentHandler, StopDeploymentHandler, RestartDeploymentHandler, DeleteDeploymentHandler,
    GetDeploymentHandler, ListDeploymentsHandler, ListDeploymentVersionsHandler, ListDeploymentLogsHandler,
    // Metrics: the runner is the source of the apps running here. useExisting (an alias), not a factory returning the
    // runner: Nest calls lifecycle hooks on every non-alias provider's instance, so a factory would start its apps twice.
    // That the runner is a LiveAppSource is checked in sandbox-metrics-sampler.spec.ts.
    { provide: LIVE_APPS, useExisting: DeploymentRunner },
    SandboxMetricsRepository, SandboxMetricsSampler, MetricsSamplingJob,
    GetDeploymentMetricsHandler, GetMetricsSummaryHandler, ListLiveSandboxesHandler, CountDeploymentsByStatusHandler,
  ],
})
export class DeploymentsModule {}
