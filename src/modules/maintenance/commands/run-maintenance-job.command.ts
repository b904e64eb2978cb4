import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { MaintenanceJobs } from '../../../common/scheduling/maintenance-jobs';
import { JobRunner, JobRunView } from '../job-runner';

/** Runs a job now, waiting for it; 409 while another replica runs it. */
export class RunMaintenanceJobCommand extends Command<JobRunView> {
  constructor(readonly name: string) {
    super();
  }
}

@CommandHandler(RunMaintenanceJobCommand)
export class RunMaintenanceJobHandler implements ICommandHandler<RunMaintenanceJobCommand> {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly runner: JobRunner,
  ) {}

  async execute({ name }: RunMaintenanceJobCommand): Promise<JobRunView> {
    const job = this.jobs.get(name);
    if (!job) throw AppError.notFound('Maintenance job');
    const run = await this.runner.run(job, 'manual');
    if (run.status === 'skipped') throw AppError.conflict('This job is running right now; try again when it has finished');
    return run;
  }
}
