import { Injectable, OnModuleInit } from '@nestjs/common';
import { MaintenanceJobs } from '../../../common/scheduling/maintenance-jobs';
import { ServerProber } from './server-prober';

export const PROBE_JOB = 'servers.probe';

/**
 * servers.probe: a maintenance job, so the maintenance context runs each tick
 * once across all replicas (its advisory lock) and records it in job_runs.
 *
 * How a 60 s interval is honoured with cron ticks of a minute: the job runs
 * every minute and probes only the servers that are due (never probed, or
 * whose last probe started at least their interval ago, less 5 s of slack
 * for the ticks' jitter); intervals are therefore whole minutes in effect
 * (MONITOR_PROBE_INTERVAL_SECONDS and probe_interval_seconds are at least
 * 60), a 90 s interval being probed every second minute. Run by hand
 * (POST /admin/maintenance/jobs/servers.probe/run: trigger `manual`) it probes
 * every monitored server at once, due or not.
 */
@Injectable()
export class ServerProbeJob implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly prober: ServerProber,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: PROBE_JOB,
      description: 'TCP-connect every monitored server whose probe interval is due (every one when run by hand); store online/offline and latency, announce changes',
      schedule: '* * * * *',
      run: async (now, context) => ({ ...(await this.prober.round(now, context?.trigger === 'manual')) }),
    });
  }
}
