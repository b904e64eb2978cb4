import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { MaintenanceJobs } from '../../../common/scheduling/maintenance-jobs';
import { JobRunView } from '../job-runner';
import { MaintenanceScheduler } from '../maintenance-scheduler';

export interface MaintenanceJobView {
  name: string;
  description: string;
  schedule: string;
  last_run: JobRunView | null;
  next_run_at: string | null;
}

export class ListMaintenanceJobsQuery extends Query<MaintenanceJobView[]> {}

@QueryHandler(ListMaintenanceJobsQuery)
export class ListMaintenanceJobsHandler implements IQueryHandler<ListMaintenanceJobsQuery> {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly scheduler: MaintenanceScheduler,
    private readonly dataSource: DataSource,
  ) {}

  async execute(): Promise<MaintenanceJobView[]> {
    const rows: Array<Record<string, any>> = await this.dataSource.query(
      `SELECT DISTINCT ON (job_name) * FROM job_runs ORDER BY job_name, created_at DESC`,
    );
    const lastRuns = new Map(rows.map((row) => [row.job_name as string, row]));
    return this.jobs.all().map((job) => {
      const row = lastRuns.get(job.name);
      const nextRun = this.scheduler.nextRun(job.name);
      return {
        name: job.name,
        description: job.description,
        schedule: job.schedule,
        next_run_at: nextRun ? nextRun.toISOString() : null,
        last_run: row
          ? {
              id: row.id,
              job_name: row.job_name,
              trigger: row.trigger,
              status: row.status,
              scheduled_for: row.scheduled_for ? (row.scheduled_for as Date).toISOString() : null,
              started_at: (row.created_at as Date).toISOString(),
              finished_at: row.finished_at ? (row.finished_at as Date).toISOString() : null,
              output: row.output,
              error: row.error,
            }
          : null,
      };
    });
  }
}
