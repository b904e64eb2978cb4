import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppLogger } from '../../../common/logging/app-logger';
import { MaintenanceJobs } from '../../../common/scheduling/maintenance-jobs';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { ServerMetricsRepository } from '../repositories/server-metrics.repository';
import { HostSampler } from './host-sampler';
import { LocalServer } from './local-server';

export const HOST_SAMPLING_JOB = 'metrics.sample_host';

/**
 * metrics.sample_host: the platform's host (server `local`) sampled from
 * /proc (host-sampler.ts) every MONITOR_HOST_SAMPLE_SECONDS into
 * server_metrics, on a timer of each replica's own, as
 * metrics.sample_deployments does: the maintenance scheduler's ticks are a
 * minute apart, too coarse for 15 s.
 *
 * Every replica reads its own /proc (the CPU and network figures are deltas
 * since that replica's previous reading), and the first to write in an
 * interval wins (a row newer than half the interval stops the others), so
 * `local` gets one sample per interval however many replicas run; on one
 * machine they all read the same host anyway.
 *
 * It is a maintenance job too, so admins see it and can run it now (which
 * stores a sample whatever the interval); its hourly schedule is a recorded
 * check that sampling works. The timer follows SCHEDULER_ENABLED.
 */
@Injectable()
export class HostSamplingJob implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly sampler = new HostSampler();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly local: LocalServer,
    private readonly metrics: ServerMetricsRepository,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: HOST_SAMPLING_JOB,
      description: `Sample this host's CPU, memory, disk, network and load into server_metrics as server local (each replica also does it every ${this.config.monitoring.hostSampleSeconds} s on its own)`,
      schedule: '7 * * * *',
      run: async (now) => ({ stored: await this.sample(now, 0) }),
    });
  }

  onApplicationBootstrap(): void {
    if (!this.config.scheduler.enabled) return;
    const seconds = this.config.monitoring.hostSampleSeconds;
    this.timer = setInterval(() => void this.tick(seconds), seconds * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Reads the host and stores the sample unless another one landed less than `minGapSeconds` ago; answers whether it stored it. */
  async sample(now: Date, minGapSeconds: number): Promise<boolean> {
    const reading = this.sampler.sample(now);
    return this.metrics.insertUnlessRecent(
      await this.local.id(),
      {
        recordedAt: now,
        cpuPercent: reading.cpu_percent,
        memoryPercent: reading.memory_percent,
        diskPercent: reading.disk_percent,
        networkInBytes: reading.network_in_bytes,
        networkOutBytes: reading.network_out_bytes,
        load1m: reading.load_1m,
      },
      minGapSeconds,
    );
  }

  private async tick(seconds: number): Promise<void> {
    try {
      await this.sample(new Date(), seconds / 2);
    } catch (error) {
      this.logger.pino.warn({ err: error }, 'host metrics not sampled');
    }
  }
}
