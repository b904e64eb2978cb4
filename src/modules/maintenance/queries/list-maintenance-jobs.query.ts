import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { MaintenanceJobs } from '../../../common/scheduling/maintenance-jobs';
import { JobRunView } from '../job-runner';
import { MaintenanceScheduler } from '../maintenance-scheduler';
import { JobRunRepository } from '../repositories/job-run.repository';

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
    private readonly jobRuns: JobRunRepository,
  ) {}

  async execute(): Promise<MaintenanceJobView[]> {
    const rows = await this.jobRuns.latestRunPerJob();
    const lastRuns = new Map(rows.map((row) => [row.job_name, row]));
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
              // A run in progress is listed as 'running', which JobRunView does not name (yet).
              status: row.status as JobRunView['status'],
              scheduled_for: row.scheduled_for ? row.scheduled_for.toISOString() : null,
              started_at: row.created_at.toISOString(),
              finished_at: row.finished_at ? row.finished_at.toISOString() : null,
              output: row.output,
              error: row.error,
            }
          : null,
      };
    });
  }
}
