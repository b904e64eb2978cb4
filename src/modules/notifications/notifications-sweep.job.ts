import { Injectable, OnModuleInit } from '@nestjs/common';
import { MaintenanceJobs } from '../../common/scheduling/maintenance-jobs';
import { NotificationRepository } from './repositories/notification.repository';

const DAY_MS = 86_400_000;
/** A read notification has done its work; after this long nobody scrolls back to it. */
export const KEEP_READ_DAYS = 90;
/** Nor to an unread one: a user who never reads them must not grow the table forever. */
export const KEEP_ANY_DAYS = 365;

/** notifications.sweep: deletes read notifications over 90 days old and any over 365 days old. */
@Injectable()
export class NotificationsSweepJob implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly notifications: NotificationRepository,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: 'notifications.sweep',
      description: `Delete read notifications over ${KEEP_READ_DAYS} days old and any over ${KEEP_ANY_DAYS} days old`,
      schedule: '45 3 * * *',
      run: async (now) => ({
        deleted: await this.notifications.sweep(new Date(now.getTime() - KEEP_READ_DAYS * DAY_MS), new Date(now.getTime() - KEEP_ANY_DAYS * DAY_MS)),
      }),
    });
  }
}
