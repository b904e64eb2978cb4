import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MaintenanceJobs } from '../../common/scheduling/maintenance-jobs';
import { partitionedTables } from '../../database/partitioned-tables';
import { PartitionMaintainer } from '../../database/partitions';

/** partitions.maintain (hourly and at start) and retention.purge (daily). */
@Injectable()
export class PartitionJobs implements OnModuleInit {
  constructor(
    private readonly jobs: MaintenanceJobs,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const maintainer = new PartitionMaintainer(this.dataSource, partitionedTables(this.config));
    this.jobs.register({
      name: 'partitions.maintain',
      description: "Create this month's and the next two months' partitions; move rows out of DEFAULT partitions",
      schedule: '0 * * * *',
      runAtStartup: true,
      run: async (now) => ({ ...(await maintainer.maintain(now)) }),
    });
    this.jobs.register({
      name: 'retention.purge',
      description: 'Drop partitions older than each table\'s retention and purge expired rows from DEFAULT partitions',
      schedule: '30 3 * * *',
      run: async (now) => ({ ...(await maintainer.purge(now)) }),
    });
  }
}
