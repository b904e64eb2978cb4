import { Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import { EntityManager } from 'typeorm';
import { MaintenanceJob } from '../../common/scheduling/maintenance-jobs';
import { AppLogger } from '../../common/logging/app-logger';
import { JobRunRepository, JobTrigger } from './repositories/job-run.repository';

export interface JobRunView {
  id: string | null;
  job_name: string;
  trigger: JobTrigger;
  status: 'succeeded' | 'failed' | 'skipped';
  /** Why a run was skipped: another replica holds the job, or this tick already ran. */
  skipped_reason?: 'running_elsewhere' | 'already_ran';
  scheduled_for: string | null;
  started_at: string | null;
  finished_at: string | null;
  output: Record<string, unknown> | null;
  error: string | null;
}

const INSTANCE = `${hostname()}:${process.pid}`;

/**
 * Runs a job at most once at a time across every replica (pg_try_advisory_lock
 * on a dedicated connection) and at most once per scheduled tick (a tick
 * already recorded in job_runs is not run again), and records every run.
 */
@Injectable()
export class JobRunner {
  constructor(
    private readonly jobRuns: JobRunRepository,
    private readonly logger: AppLogger,
  ) {}

  async run(job: MaintenanceJob, trigger: JobTrigger, scheduledFor: Date | null = null): Promise<JobRunView> {
    const skipped = (reason: JobRunView['skipped_reason']): JobRunView => ({
      id: null, job_name: job.name, trigger, status: 'skipped', skipped_reason: reason,
      scheduled_for: scheduledFor?.toISOString() ?? null, started_at: null, finished_at: null, output: null, error: null,
    });
    // The lock is held by a connection, so everything below runs on one of its own.
    return this.jobRuns.onOwnConnection(async (manager) => {
      if (!(await this.jobRuns.tryLock(job.name, manager))) return skipped('running_elsewhere');
      try {
        if (scheduledFor && (await this.jobRuns.hasRunFor(job.name, scheduledFor, manager))) return skipped('already_ran');
        return await this.execute(manager, job, trigger, scheduledFor);
      } finally {
        await this.jobRuns.unlock(job.name, manager);
      }
    });
  }

  private async execute(manager: EntityManager, job: MaintenanceJob, trigger: JobTrigger, scheduledFor: Date | null): Promise<JobRunView> {
    const startedAt = new Date();
    const id = await this.jobRuns.recordStart({ startedAt, jobName: job.name, trigger, scheduledFor, instance: INSTANCE }, manager);
    let output: Record<string, unknown> | null = null;
    let error: string | null = null;
    try {
      output = await job.run(startedAt, { trigger });
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      this.logger.pino.error({ err: failure, job: job.name }, 'maintenance job failed');
    }
    const finishedAt = new Date();
    const status = error === null ? 'succeeded' : 'failed';
    await this.jobRuns.recordEnd(id, startedAt, { finishedAt, status, output, error }, manager);
    return {
      id, job_name: job.name, trigger, status, scheduled_for: scheduledFor?.toISOString() ?? null,
      started_at: startedAt.toISOString(), finished_at: finishedAt.toISOString(), output, error,
    };
  }
}
