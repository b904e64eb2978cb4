import { Injectable } from '@nestjs/common';
import { hostname } from 'node:os';
import { DataSource } from 'typeorm';
import { MaintenanceJob } from '../../common/scheduling/maintenance-jobs';
import { AppLogger } from '../../common/logging/app-logger';

export type JobTrigger = 'schedule' | 'startup' | 'manual';

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
    private readonly dataSource: DataSource,
    private readonly logger: AppLogger,
  ) {}

  async run(job: MaintenanceJob, trigger: JobTrigger, scheduledFor: Date | null = null): Promise<JobRunView> {
    const skipped = (reason: JobRunView['skipped_reason']): JobRunView => ({
      id: null, job_name: job.name, trigger, status: 'skipped', skipped_reason: reason,
      scheduled_for: scheduledFor?.toISOString() ?? null, started_at: null, finished_at: null, output: null, error: null,
    });
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`job:${job.name}`])) as Array<{ locked: boolean }>;
      if (!locked) return skipped('running_elsewhere');
      try {
        if (scheduledFor) {
          const done = (await runner.query('SELECT 1 FROM job_runs WHERE job_name = $1 AND scheduled_for = $2 LIMIT 1', [job.name, scheduledFor])) as unknown[];
          if (done.length > 0) return skipped('already_ran');
        }
        return await this.execute(runner, job, trigger, scheduledFor);
      } finally {
        await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`job:${job.name}`]);
      }
    } finally {
      await runner.release();
    }
  }

  private async execute(
    runner: { query: (sql: string, params?: unknown[]) => Promise<any> },
    job: MaintenanceJob,
    trigger: JobTrigger,
    scheduledFor: Date | null,
  ): Promise<JobRunView> {
    const startedAt = new Date();
    const [{ id }] = (await runner.query(
      `INSERT INTO job_runs (created_at, job_name, trigger, scheduled_for, status, instance) VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id`,
      [startedAt, job.name, trigger, scheduledFor, INSTANCE],
    )) as Array<{ id: string }>;
    let output: Record<string, unknown> | null = null;
    let error: string | null = null;
    try {
      output = await job.run(startedAt);
    } catch (failure) {
      error = failure instanceof Error ? failure.message : String(failure);
      this.logger.pino.error({ err: failure, job: job.name }, 'maintenance job failed');
    }
    const finishedAt = new Date();
    const status = error === null ? 'succeeded' : 'failed';
    await runner.query(
      `UPDATE job_runs SET finished_at = $3, status = $4, output = $5, error = $6 WHERE id = $1 AND created_at = $2`,
      [id, startedAt, finishedAt, status, output === null ? null : JSON.stringify(output), error],
    );
    return {
      id, job_name: job.name, trigger, status, scheduled_for: scheduledFor?.toISOString() ?? null,
      started_at: startedAt.toISOString(), finished_at: finishedAt.toISOString(), output, error,
    };
  }
}
