import { Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MaintenanceJobs } from '../../common/scheduling/maintenance-jobs';

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
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: 'executions.reap',
      description: 'Mark runs left queued or running by a replica that died as internal_error',
      schedule: '*/10 * * * *',
      run: async (now) => {
        const [, reaped] = (await this.dataSource.query(
          `UPDATE executions SET status = 'internal_error', finished_at = $1
            WHERE status IN ('queued', 'running')
              AND created_at < $1::timestamptz
                - make_interval(secs => timeout_ms / 1000.0 * greatest(coalesce(jsonb_array_length(tests), 1), 1) + $2)`,
          [now, GRACE_SECONDS],
        )) as [unknown, number];
        return { reaped };
      },
    });
  }
}
