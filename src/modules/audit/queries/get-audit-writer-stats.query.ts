import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { AuditWriter } from '../audit-writer';

export interface AuditWriterStats {
  /** Entries queued on this replica, not yet committed: how far the writer lags. */
  pending: number;
  /** Entries dropped since start because the buffer was full (AUDIT_BUFFER_SIZE). */
  dropped: number;
  /** Entries PostgreSQL refused even alone, logged instead of written, since start. */
  dead_lettered: number;
}

/** This replica's audit writer in figures (for GET /metrics). */
export class GetAuditWriterStatsQuery extends Query<AuditWriterStats> {}

@QueryHandler(GetAuditWriterStatsQuery)
export class GetAuditWriterStatsHandler implements IQueryHandler<GetAuditWriterStatsQuery> {
  constructor(private readonly writer: AuditWriter) {}

  async execute(): Promise<AuditWriterStats> {
    return { pending: this.writer.pending, dropped: this.writer.dropped, dead_lettered: this.writer.deadLettered };
  }
}
