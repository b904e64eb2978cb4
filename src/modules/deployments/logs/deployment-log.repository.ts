import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DeploymentLogPage, LogLevel, LogSource, levelsFrom } from './deployment-log';
import { LogCursor, cursorTime, encodeCursor } from './log-cursor';

export interface DeploymentLogSearch {
  /** This level or a more severe one. */
  level?: LogLevel;
  /** Lines at or after this time. */
  start_time?: Date;
  /** Lines at or before this time. */
  end_time?: Date;
  limit: number;
  /** Lines older than this one (the previous page's last). */
  cursor?: LogCursor;
}

interface LogRecord {
  created_at: Date;
  micros: string;
  seq_text: string;
  level: LogLevel;
  source: LogSource;
  message: string;
  truncated: boolean;
  metadata: Record<string, unknown>;
}

/**
 * deployment_logs (migration 1765400000000-DeploymentLogs), read and deleted;
 * lines are written by DeploymentLogWriter with COPY. Ownership is the callers'.
 */
@Injectable()
export class DeploymentLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * One page, newest first by (created_at DESC, seq DESC), and the cursor of
   * the next one. Keyset paging: a page after the cursor starts exactly after
   * its last line, so lines of the same instant are neither repeated nor
   * skipped, and lines written meanwhile do not shift the pages.
   *
   * The plan (checked by test/e2e/deployment-logs.e2e-spec.ts with EXPLAIN on
   * a deployment with thousands of lines): a Limit over a Merge Append of
   * backward index scans of each partition's primary key (deployment_id,
   * created_at, seq) — deployment_id, the time bounds and the cursor as index
   * conditions, no Sort, so a page reads about `limit` lines however long the
   * log; the level is a filter on the lines read. With start_time (or
   * end_time) the months outside the range are pruned (the values are
   * parameters of an unnamed statement, planned with each call). For a
   * deployment with a handful of lines PostgreSQL may rather sort them, which
   * is cheaper there.
   */
  async list(deploymentId: string, search: DeploymentLogSearch): Promise<DeploymentLogPage> {
    const params: unknown[] = [deploymentId];
    const where = ['deployment_id = $1'];
    if (search.level && search.level !== 'debug') {
      params.push(levelsFrom(search.level));
      where.push(`level = ANY($${params.length}::text[])`);
    }
    if (search.start_time) {
      params.push(search.start_time);
      where.push(`created_at >= $${params.length}`);
    }
    if (search.end_time) {
      params.push(search.end_time);
      where.push(`created_at <= $${params.length}`);
    }
    if (search.cursor) {
      params.push(cursorTime(search.cursor.micros), search.cursor.seq.toString());
      where.push(`(created_at, seq) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    // One more than asked for says whether there is a next page. The cursor's
    // parts are read as text (exact: microseconds, a bigint), under names of
    // their own so that ORDER BY sorts the columns, not these texts.
    params.push(search.limit + 1);
    const rows: LogRecord[] = await this.dataSource.query(
      `SELECT created_at, (extract(epoch FROM created_at) * 1000000)::bigint::text AS micros, seq::text AS seq_text,
              level, source, message, truncated, metadata
         FROM deployment_logs
        WHERE ${where.join(' AND ')}
        ORDER BY created_at DESC, seq DESC
        LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, search.limit);
    const last = page.at(-1);
    return {
      logs: page.map((r) => ({
        timestamp: r.created_at.toISOString(),
        level: r.level,
        source: r.source,
        message: r.message,
        truncated: r.truncated,
        metadata: r.metadata,
      })),
      next_cursor: rows.length > search.limit && last ? encodeCursor({ micros: BigInt(last.micros), seq: BigInt(last.seq_text) }) : null,
    };
  }

  /** Removes every line of a deployment (it was deleted); returns how many. */
  async deleteAll(deploymentId: string): Promise<number> {
    const [, deleted] = (await this.dataSource.query('DELETE FROM deployment_logs WHERE deployment_id = $1', [deploymentId])) as [unknown, number];
    return deleted;
  }
}
