import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { queryPrepared } from '../../../common/database/pg-pool';
import { ExecutionEntity } from '../entities/execution.entity';
import { newestFirstPage } from '../../../common/database/newest-first-page';

/** The filters of the run lists (all optional; no user_id: everyone's runs). */
export interface ExecutionSearch {
  user_id?: string;
  status?: string;
  language?: string;
  from?: Date;
  to?: Date;
}

/** A user's runs in figures (GetExecutionStatsQuery answers this). */
export interface ExecutionStats {
  /** Every run of the user's, whatever its status (queued and running ones too). */
  total: number;
  /** Runs created today, the UTC day. */
  today: number;
  /** Runs that ended with status `success`. */
  successful: number;
  /** successful / total, 0..1, rounded to 4 decimals; 0 when there is no run. */
  success_rate: number;
  /** Mean execution_time_ms of the finished runs that have one, rounded to 2 decimals; null when there is none. */
  average_time_ms: number | null;
  /** Runs per language, most first (ties by name). */
  by_language: Array<{ language: string; count: number }>;
  /** One entry per UTC day of the window, oldest first, ending today; days without runs count 0. */
  per_day: Array<{ date: string; count: number; successful: number }>;
}

/**
 * The `executions` table (and the daily quota counters in
 * `execution_quota_usage`, which only the insert of a run touches): every
 * statement the execution context makes. The statements every run makes
 * (insert, mark running, finish) are named prepared statements, sent
 * straight to the pg pool: PostgreSQL plans them once per connection, and
 * TypeORM's query builder would cost about a millisecond of the API's time
 * for each.
 */
@Injectable()
export class ExecutionRepository {
  /** The prepared UPDATE statements of finish(), by the fields they set. */
  private readonly updates = new Map<string, { name: string; text: string }>();

  constructor(@InjectRepository(ExecutionEntity) private readonly executions: Repository<ExecutionEntity>) {}

  findById(id: string): Promise<ExecutionEntity | null> {
    return this.executions.findOneBy({ id });
  }

  /** A run known to exist (runs are not deleted); throws EntityNotFoundError otherwise. */
  getById(id: string): Promise<ExecutionEntity> {
    return this.executions.findOneByOrFail({ id });
  }

  /** The run a user started with this Idempotency-Key. */
  findByIdempotencyKey(userId: string, idempotencyKey: string): Promise<ExecutionEntity | null> {
    return this.executions.findOneBy({ userId, idempotencyKey });
  }

  /**
   * Inserts a run if the daily quota allows it, in one statement (exact under
   * concurrency): the quota row for (user, UTC day, source) is incremented only
   * while under `dailyLimit`, and the run is inserted only if that happened.
   * False: the quota is used up.
   */
  async insertCounted(row: ExecutionEntity, dailyLimit: number): Promise<boolean> {
    const inserted = await queryPrepared(
      this.executions.manager.connection,
      'executions.insert-counted',
      `WITH quota AS (
         INSERT INTO execution_quota_usage AS q (user_id, day, source, used)
         SELECT $2, (now() AT TIME ZONE 'UTC')::date, $4, 1 WHERE $18::int > 0
         ON CONFLICT (user_id, day, source) DO UPDATE SET used = q.used + 1 WHERE q.used < $18::int
         RETURNING used
       )
       INSERT INTO executions (id, user_id, api_key_id, source, language, environment, code, stdin, args, files, tests,
         status, timeout_ms, memory_mb, idempotency_key, environment_id, created_at, started_at)
       SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $19
       WHERE EXISTS (SELECT 1 FROM quota)
       RETURNING id`,
      [
        row.id,
        row.userId,
        row.apiKeyId,
        row.source,
        row.language,
        row.environment,
        row.code,
        row.stdin,
        JSON.stringify(row.args),
        JSON.stringify(row.files),
        row.tests ? JSON.stringify(row.tests) : null,
        row.status,
        row.timeoutMs,
        row.memoryMb,
        row.idempotencyKey,
        row.environmentId,
        row.createdAt,
        dailyLimit,
        row.startedAt,
      ],
    );
    return inserted.length === 1;
  }

  /** A queued run got its worker slot. */
  async markRunning(id: string, startedAt: Date): Promise<void> {
    await queryPrepared(
      this.executions.manager.connection,
      'executions.mark-running',
      `UPDATE executions SET status = 'running', started_at = $2 WHERE id = $1 AND status = 'queued'`,
      [id, startedAt],
    );
  }

  /**
   * Stores a run's outcome: UPDATE executions SET <fields> WHERE id = ...,
   * prepared, its text made once per set of fields from the entity's columns.
   */
  async finish(id: string, fields: Partial<ExecutionEntity>): Promise<void> {
    const names = (Object.keys(fields) as Array<keyof ExecutionEntity>).filter((name) => fields[name] !== undefined);
    const columns = names.map((name) => this.executions.metadata.findColumnWithPropertyName(name)!);
    const key = names.join(',');
    let statement = this.updates.get(key);
    if (!statement) {
      const sets = columns.map((column, index) => `"${column.databaseName}" = $${index + 2}`);
      statement = { name: `executions.update-${this.updates.size + 1}`, text: `UPDATE executions SET ${sets.join(', ')} WHERE id = $1` };
      this.updates.set(key, statement);
    }
    // JSON columns are sent as text: the driver would turn an array into a Postgres array.
    const values = names.map((name, index) => (columns[index].type === 'jsonb' && fields[name] !== null ? JSON.stringify(fields[name]) : fields[name]));
    await queryPrepared(this.executions.manager.connection, statement.name, statement.text, [id, ...values]);
  }

  /** Marks a run killed unless it finished meanwhile (for a run no live replica holds). */
  async killUnfinished(id: string, at: Date): Promise<void> {
    await this.executions.update({ id, status: In(['queued', 'running']) }, { status: 'killed', finishedAt: at });
  }

  /**
   * Marks internal_error the runs still queued or running that were created
   * longer ago than they could take (their time limit, per test case) plus
   * `graceSeconds`, as of `now`; answers how many.
   */
  async reapStale(now: Date, graceSeconds: number): Promise<number> {
    const [, reaped] = (await this.executions.query(
      `UPDATE executions SET status = 'internal_error', finished_at = $1
        WHERE status IN ('queued', 'running')
          AND created_at < $1::timestamptz
            - make_interval(secs => timeout_ms / 1000.0 * greatest(coalesce(jsonb_array_length(tests), 1), 1) + $2)`,
      [now, graceSeconds],
    )) as [unknown, number];
    return reaped;
  }

  /** One page of the runs matching the filters, newest first, and how many match in all. */
  async search(filters: ExecutionSearch, page: { page: number; limit: number }): Promise<{ rows: ExecutionEntity[]; total: number }> {
    const query = this.executions.createQueryBuilder('e');
    if (filters.user_id) query.andWhere('e.user_id = :userId', { userId: filters.user_id });
    if (filters.status) query.andWhere('e.status = :status', { status: filters.status });
    if (filters.language) query.andWhere('e.language = :language', { language: filters.language });
    if (filters.from) query.andWhere('e.created_at >= :from', { from: filters.from });
    if (filters.to) query.andWhere('e.created_at < :to', { to: filters.to });
    return newestFirstPage(query, { createdAt: 'e.created_at', id: 'e.id' }, page);
  }

  /**
   * A user's runs in figures, in one statement: the all-time aggregates per
   * language (`totals`), the per-day counts of the last `days` UTC days
   * (`recent`, a range of the (user_id, created_at) index) joined to every
   * day of the window, so days without runs are there as 0. Both read only
   * the covering index executions_user_id_idx (migration
   * 1764450000000-ExecutionStatsIndex): no row is fetched from the table,
   * however many runs the user has.
   */
  async stats(userId: string, days: number): Promise<ExecutionStats> {
    const [row] = (await this.executions.query(
      `WITH totals AS (
         SELECT language,
                count(*)::int AS count,
                count(*) FILTER (WHERE status = 'success')::int AS successful,
                sum(execution_time_ms) FILTER (WHERE status NOT IN ('queued', 'running')) AS time_sum,
                count(execution_time_ms) FILTER (WHERE status NOT IN ('queued', 'running')) AS timed
           FROM executions
          WHERE user_id = $1
          GROUP BY language
       ),
       recent AS (
         SELECT (created_at AT TIME ZONE 'UTC')::date AS day,
                count(*)::int AS count,
                count(*) FILTER (WHERE status = 'success')::int AS successful
           FROM executions
          WHERE user_id = $1
            AND created_at >= ((now() AT TIME ZONE 'UTC')::date - ($2::int - 1))::timestamp AT TIME ZONE 'UTC'
          GROUP BY 1
       ),
       window_days AS (
         SELECT day::date AS day
           FROM generate_series((now() AT TIME ZONE 'UTC')::date - ($2::int - 1), (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS day
       )
       SELECT coalesce((SELECT sum(count) FROM totals), 0)::int AS total,
              coalesce((SELECT count FROM recent WHERE day = (now() AT TIME ZONE 'UTC')::date), 0) AS today,
              coalesce((SELECT sum(successful) FROM totals), 0)::int AS successful,
              coalesce((SELECT round(sum(successful) / nullif(sum(count), 0)::numeric, 4) FROM totals), 0)::float8 AS success_rate,
              (SELECT round(sum(time_sum) / nullif(sum(timed), 0)::numeric, 2) FROM totals)::float8 AS average_time_ms,
              (SELECT coalesce(json_agg(json_build_object('language', language, 'count', count) ORDER BY count DESC, language), '[]')
                 FROM totals) AS by_language,
              (SELECT json_agg(json_build_object('date', to_char(w.day, 'YYYY-MM-DD'), 'count', coalesce(r.count, 0),
                                                 'successful', coalesce(r.successful, 0)) ORDER BY w.day)
                 FROM window_days w LEFT JOIN recent r USING (day)) AS per_day`,
      [userId, days],
    )) as ExecutionStats[];
    return row;
  }
}
