import { Injectable } from '@nestjs/common';

/** A built-in scheduled job. `run` returns a small JSON summary kept with the run. */
export interface MaintenanceJob {
  name: string;
  description: string;
  /** Cron expression, evaluated in UTC. */
  schedule: string;
  runAtStartup?: boolean;
  /** `context.trigger` says how the run started: an admin's run-now is `manual` (a job may do all its work then, not only what is due). */
  run(now: Date, context?: MaintenanceJobContext): Promise<Record<string, unknown>>;
}

export interface MaintenanceJobContext {
  trigger: 'schedule' | 'startup' | 'manual';
}

/**
 * Where contexts register their maintenance jobs (in onModuleInit); the
 * maintenance context schedules, locks, runs and records them.
 */
@Injectable()
export class MaintenanceJobs {
  private readonly jobs = new Map<string, MaintenanceJob>();

  register(job: MaintenanceJob): void {
    if (this.jobs.has(job.name)) throw new Error(`Maintenance job ${job.name} registered twice`);
    this.jobs.set(job.name, job);
  }

  get(name: string): MaintenanceJob | undefined {
    return this.jobs.get(name);
  }

  all(): MaintenanceJob[] {
    return [...this.jobs.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
