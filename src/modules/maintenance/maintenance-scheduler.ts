import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AppLogger } from '../../common/logging/app-logger';
import { MaintenanceJob, MaintenanceJobs } from '../../common/scheduling/maintenance-jobs';
import { JobRunner } from './job-runner';

/**
 * Puts every registered job on its cron schedule (UTC) through @nestjs/schedule
 * and runs the startup jobs. A tick is identified by its minute, the same on
 * every replica, which is what lets JobRunner run it once.
 */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly runner: JobRunner,
    private readonly registry: SchedulerRegistry,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.scheduler.enabled) return;
    for (const job of this.jobs.all()) {
      const cron = CronJob.from({
        cronTime: job.schedule,
        timeZone: 'UTC',
        onTick: () => void this.tick(job),
        start: true,
      });
      this.registry.addCronJob(`maintenance:${job.name}`, cron);
      if (job.runAtStartup) void this.safely(job, () => this.runner.run(job, 'startup'));
    }
  }

  /** When the job runs next, or null when the scheduler is off. */
  nextRun(name: string): Date | null {
    if (!this.config.scheduler.enabled) return null;
    const cron = this.registry.getCronJobs().get(`maintenance:${name}`);
    return cron ? cron.nextDate().toJSDate() : null;
  }

  private async tick(job: MaintenanceJob): Promise<void> {
    const scheduledFor = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    await this.safely(job, () => this.runner.run(job, 'schedule', scheduledFor));
  }

  private async safely(job: MaintenanceJob, run: () => Promise<unknown>): Promise<void> {
    try {
      await run();
    } catch (error) {
      this.logger.pino.error({ err: error, job: job.name }, 'could not run maintenance job');
    }
  }
}
