import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** What started a run, and how it stands (the table's CHECK constraints). */
export type JobTrigger = 'schedule' | 'startup' | 'manual';
export type JobRunStatus = 'running' | 'succeeded' | 'failed';

/** A job_runs row (`created_at` is when the run started). */
export interface JobRunRow {
  id: string;
  job_name: string;
  trigger: JobTrigger;
  status: JobRunStatus;
  scheduled_for: Date | null;
  created_at: Date;
  finished_at: Date | null;
  output: Record<string, unknown> | null;
  error: string | null;
}

/** A run as it starts (`startedAt` is its created_at, the partition key). */
export interface JobRunStart {
  startedAt: Date;
  jobName: string;
  trigger: JobTrigger;
  scheduledFor: Date | null;
  instance: string;
}

/** How a run ended. */
export interface JobRunEnd {
  finishedAt: Date;
  status: Exclude<JobRunStatus, 'running'>;
  output: Record<string, unknown> | null;
  error: string | null;
}

/**
 * The `job_runs` table (partitioned by month, in the migrations only: no
 * entity) and the advisory lock that lets one replica at a time run a job.
 * The lock belongs to a database session, so a run's statements all go
 * through the `manager` of one dedicated connection (`onOwnConnection`).
 */
@Injectable()
export class JobRunRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Runs `work` on a connection of its own, released afterwards. */
  async onOwnConnection<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await work(runner.manager);
    } finally {
      await runner.release();
    }
  }

  /** Takes the job's session-level advisory lock if no one holds it; false when another connection does. */
  async tryLock(jobName: string, manager: EntityManager): Promise<boolean> {
    const [{ locked }] = (await manager.query('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [`job:${jobName}`])) as Array<{ locked: boolean }>;
    return locked;
  }

  async unlock(jobName: string, manager: EntityManager): Promise<void> {
    await manager.query('SELECT pg_advisory_unlock(hashtext($1))', [`job:${jobName}`]);
  }

  /** Whether the job already has a run for this scheduled tick (on any replica). */
  async hasRunFor(jobName: string, scheduledFor: Date, manager: EntityManager): Promise<boolean> {
    const done = (await manager.query('SELECT 1 FROM job_runs WHERE job_name = $1 AND scheduled_for = $2 LIMIT 1', [jobName, scheduledFor])) as unknown[];
    return done.length > 0;
  }

  /** Records a run as 'running'; returns its id. */
  async recordStart(run: JobRunStart, manager: EntityManager): Promise<string> {
    const [{ id }] = (await manager.query(
      `INSERT INTO job_runs (created_at, job_name, trigger, scheduled_for, status, instance) VALUES ($1, $2, $3, $4, 'running', $5) RETURNING id`,
      [run.startedAt, run.jobName, run.trigger, run.scheduledFor, run.instance],
    )) as Array<{ id: string }>;
    return id;
  }

  /** Records how the run that started at `startedAt` ended (created_at narrows the update to its partition). */
  async recordEnd(id: string, startedAt: Date, end: JobRunEnd, manager: EntityManager): Promise<void> {
    await manager.query(
      `UPDATE job_runs SET finished_at = $3, status = $4, output = $5, error = $6 WHERE id = $1 AND created_at = $2`,
      [id, startedAt, end.finishedAt, end.status, end.output === null ? null : JSON.stringify(end.output), end.error],
    );
  }

  /** Each job's latest run. */
  latestRunPerJob(): Promise<JobRunRow[]> {
    return this.dataSource.query(`SELECT DISTINCT ON (job_name) * FROM job_runs ORDER BY job_name, created_at DESC`);
  }
}
