import type { AppConfig } from '../config/app-config';
import type { PartitionedTable } from './partitions';

/**
 * Every monthly-partitioned table and how long it keeps rows. A context that
 * adds one (sandbox_metrics, server_metrics) adds a line here
 * and creates the table with a DEFAULT partition in its migration.
 */
export function partitionedTables(config: AppConfig): PartitionedTable[] {
  return [
    { table: 'audit_logs', retentionDays: config.retention.auditDays },
    { table: 'job_runs', retentionDays: config.retention.jobRunsDays },
    { table: 'deployment_logs', retentionDays: config.retention.logsDays },
    { table: 'sandbox_metrics', retentionDays: config.retention.metricsDays },
    { table: 'server_metrics', retentionDays: config.retention.metricsDays, timeColumn: 'recorded_at' },
  ];
}
