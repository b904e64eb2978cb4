import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { AuditCapture } from './audit-capture';
import { AuditWriter } from './audit-writer';
import { AdminLogsController } from './http/admin-logs.controller';
import { ProfileLogsController } from './http/profile-logs.controller';
import { AuditLogStatsHandler } from './queries/audit-log-stats.query';
import { GetAuditWriterStatsHandler } from './queries/get-audit-writer-stats.query';
import { ListAuditLogsHandler } from './queries/list-audit-logs.query';
import { ListAuditValuesHandler } from './queries/list-audit-values.query';
import { AuditLogRepository } from './repositories/audit-log.repository';

const controllers = [AdminLogsController, ProfileLogsController];
const queryHandlers = [ListAuditLogsHandler, AuditLogStatsHandler, ListAuditValuesHandler, GetAuditWriterStatsHandler];

@Module({
  imports: [DiscoveryModule],
  controllers,
  providers: [...queryHandlers, AuditLogRepository, AuditWriter, AuditCapture],
})
export class AuditModule {}
