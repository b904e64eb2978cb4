import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { RunMaintenanceJobHandler } from './commands/run-maintenance-job.command';
import { MaintenanceController } from './http/maintenance.controller';
import { JobRunner } from './job-runner';
import { MaintenanceScheduler } from './maintenance-scheduler';
import { PartitionJobs } from './partition-jobs';
import { ListMaintenanceJobsHandler } from './queries/list-maintenance-jobs.query';
import { JobRunRepository } from './repositories/job-run.repository';

@Module({
  imports: [ScheduleModule.forRoot()],
  controllers: [MaintenanceController],
  providers: [JobRunRepository, JobRunner, MaintenanceScheduler, PartitionJobs, RunMaintenanceJobHandler, ListMaintenanceJobsHandler],
})
export class MaintenanceModule {}
