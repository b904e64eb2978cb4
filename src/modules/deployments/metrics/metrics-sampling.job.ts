import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppLogger } from '../../../common/logging/app-logger';
import { MaintenanceJobs } from '../../../common/scheduling/maintenance-jobs';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { SandboxMetricsSampler } from './sandbox-metrics-sampler';

export const METRICS_JOB = 'metrics.sample_deployments';

/**
 * metrics.sample_deployments: each replica samples the apps it runs every
 * DEPLOY_METRICS_INTERVAL_SECONDS, on a timer of its own and without a lock.
 *
 * Why not the maintenance scheduler's tick: JobRunner runs a job once per
 * cron minute across all replicas (a cluster-wide advisory lock per job and a
 * job_runs row per tick). Sampling is the opposite: every replica must run it,
 * on its own apps (the processes and the proxy's counters are in its memory),
 * and more often than once a minute; a cluster lock would make the replicas
 * skip each other's apps, and a job_runs row every few seconds per replica
 * would be noise. Two samples never overlap within a replica (the sampler
 * shares one under way), and replicas write different apps' rows.
 *
 * It is still registered as a maintenance job, so admins see it and can run
 * it now (POST /admin/maintenance/jobs/metrics.sample_deployments/run, which
 * samples the replica that answers); its hourly schedule is a recorded
 * check that sampling works (one extra sample an hour on one replica: the
 * deltas stay exact). The timer follows SCHEDULER_ENABLED like every job.
 */
@Injectable()
export class MetricsSamplingJob implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly sampler: SandboxMetricsSampler,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: METRICS_JOB,
      description: `Sample CPU, memory, disk and requests of the apps running on this replica into sandbox_metrics (each replica also does it every ${this.config.deployments.metricsIntervalSeconds} s on its own)`,
      schedule: '5 * * * *',
      run: async () => ({ sampled: await this.sampler.sample() }),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.scheduler.enabled) return;
    this.timer = setInterval(() => void this.tick(), this.config.deployments.metricsIntervalSeconds * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    try {
      await this.sampler.sample();
    } catch (error) {
      this.logger.pino.warn({ err: error }, 'deployment metrics not sampled');
    }
  }
}
