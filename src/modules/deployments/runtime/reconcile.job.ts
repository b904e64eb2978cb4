import { Injectable, OnModuleInit } from '@nestjs/common';
import { MaintenanceJobs } from '../../../common/scheduling/maintenance-jobs';
import { DeploymentRunner } from './deployment-runner';

export const RECONCILE_JOB = 'deployments.reconcile';

/**
 * deployments.reconcile, every minute: what should run runs, what was deleted
 * is gone (DeploymentRunner.reconcile), on the replica that runs it (once a
 * tick across replicas); every replica also reconciles what is its own (its
 * apps, its directories) every minute on its own timer.
 */
@Injectable()
export class ReconcileJob implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly runner: DeploymentRunner,
  ) {}

  onModuleInit(): void {
    this.jobs.register({
      name: RECONCILE_JOB,
      description: 'Start deployments that should run and do not, stop apps of deleted deployments, remove their leftover directories',
      schedule: '* * * * *',
      run: async (now) => ({ ...(await this.runner.reconcile(now.getTime())) }),
    });
  }
}
