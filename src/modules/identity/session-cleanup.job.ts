import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MaintenanceJobs } from '../../common/scheduling/maintenance-jobs';
import { SessionRepository } from './repositories/session.repository';

/** sessions.cleanup: deletes sessions that ended (revoked or expired) more than SESSIONS_KEEP_DAYS ago. */
@Injectable()
export class SessionCleanupJob implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly sessions: SessionRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: 'sessions.cleanup',
      description: `Delete sessions revoked or expired more than ${this.config.scheduler.sessionsKeepDays} days ago`,
      schedule: '15 3 * * *',
      run: async (now) => {
        const cutoff = new Date(now.getTime() - this.config.scheduler.sessionsKeepDays * 86_400_000);
        return { deleted: await this.sessions.deleteEndedBefore(cutoff) };
      },
    });
  }
}
