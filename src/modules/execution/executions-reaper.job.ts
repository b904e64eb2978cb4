import { Injectable, OnModuleInit } from '@nestjs/common';
import { MaintenanceJobs } from '../../common/scheduling/maintenance-jobs';
import { ExecutionRepository } from './repositories/execution.repository';

/** Longer than any run can wait in the queue and then run, with a wide margin. */
const GRACE_SECONDS = 30 * 60;

/**
 * executions.reap: a run whose replica died (crash, SIGKILL) stays queued or
 * running forever; once it is far past anything it could still take, it is
 * marked internal_error so its owner and the history see the truth.
 */
@Injectable()
export class ExecutionsReaperJob implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly executions: ExecutionRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: 'executions.reap',
      description: 'Mark runs left queued or running by a replica that died as internal_error',
      schedule: '*/10 * * * *',
      run: async (now) => ({ reaped: await this.executions.reapStale(now, GRACE_SECONDS) }),
    });
  }
}
