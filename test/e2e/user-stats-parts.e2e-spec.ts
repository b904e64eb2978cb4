import { QueryBus } from '@nestjs/cqrs';
import { AppError } from '../../src/common/errors/app-error';
import { ExecutionStats, GetExecutionStatsQuery } from '../../src/modules/execution/queries/get-execution-stats.query';
import { ExecutionRepository } from '../../src/modules/execution/repositories/execution.repository';
import { CountSnippetsQuery } from '../../src/modules/library/queries/count-snippets.query';
import { TestApp } from '../support/test-app';

/**
 * The building blocks of a user's profile statistics, asked on the query bus
 * as the community context asks them: GetExecutionStatsQuery (totals, UTC
 * days, success rate, mean duration, languages; one statement reading only
 * the covering index) and CountSnippetsQuery.
 */

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const DAY_MS = 86_400_000;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('Profile statistics parts (GetExecutionStatsQuery, CountSnippetsQuery)', () => {
  let app: TestApp;
  let queries: QueryBus;
  /** Today, the UTC day, as PostgreSQL sees it (YYYY-MM-DD). */
  let today: string;

  beforeAll(async () => {
    app = await TestApp.start();
    queries = app.running.app.get(QueryBus);
    ({ rows: [{ today }] } = await app.query(`SELECT to_char((now() AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS today`));
  });
  afterAll(() => app.stop());

  /** The UTC day `n` days before today. */
  const daysAgo = (n: number) => new Date(Date.parse(`${today}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);

  interface Run {
    at: string;
    language: 'python' | 'javascript';
    status: string;
    ms: number | null;
  }

  async function insertRuns(userId: string, runs: Run[]): Promise<void> {
    await app.query(
      `INSERT INTO executions (id, user_id, source, language, code, status, execution_time_ms, timeout_ms, memory_mb, created_at)
       SELECT gen_random_uuid(), $1, 'web', r.language, 'print(1)', r.status, r.ms, 5000, 128, r.at
         FROM jsonb_to_recordset($2::jsonb) AS r(at timestamptz, language text, status text, ms int)`,
      [userId, JSON.stringify(runs)],
    );
  }

  const stats = (userId: string, days?: number): Promise<ExecutionStats> => queries.execute(new GetExecutionStatsQuery(userId, days));

  describe('GetExecutionStatsQuery', () => {
    let runner: User;

    beforeAll(async () => {
      runner = await app.registerUser();
      await insertRuns(runner.id, [
        // Today (UTC): one of each outcome; the queued run's duration does not count (it has not finished).
        { at: `${today}T00:00:01Z`, language: 'python', status: 'success', ms: 100 },
        { at: `${today}T00:00:02Z`, language: 'javascript', status: 'error', ms: 50 },
        { at: `${today}T00:00:03Z`, language: 'python', status: 'queued', ms: 9999 },
        // Yesterday in UTC, though the second is today in UTC+2.
        { at: `${daysAgo(1)}T23:59:59Z`, language: 'python', status: 'success', ms: 200 },
        { at: `${today}T01:30:00+02:00`, language: 'javascript', status: 'timeout', ms: 300 },
        // A finished run without a duration counts everywhere but in the mean.
        { at: `${daysAgo(3)}T10:00:00Z`, language: 'python', status: 'success', ms: 400 },
        { at: `${daysAgo(3)}T11:00:00Z`, language: 'python', status: 'killed', ms: null },
        { at: `${daysAgo(10)}T12:00:00Z`, language: 'python', status: 'success', ms: 500 },
        // The first day of a 30-day window, and the day before it.
        { at: `${daysAgo(29)}T00:00:00Z`, language: 'python', status: 'error', ms: 600 },
        { at: `${daysAgo(30)}T23:59:59Z`, language: 'python', status: 'success', ms: 700 },
        { at: `${daysAgo(40)}T08:00:00Z`, language: 'javascript', status: 'internal_error', ms: 800 },
      ]);
      // Someone else's runs never count.
      const other = await app.registerUser();
      await insertRuns(other.id, [
        { at: `${today}T00:00:05Z`, language: 'python', status: 'success', ms: 1 },
        { at: `${daysAgo(1)}T12:00:00Z`, language: 'javascript', status: 'success', ms: 1 },
      ]);
    });

    it('counts all runs, today\'s (UTC), the successful ones, the rate, the mean duration of finished runs and the languages', async () => {
      const result = await stats(runner.id);
      expect(Object.keys(result).sort()).toEqual(['average_time_ms', 'by_language', 'per_day', 'success_rate', 'successful', 'today', 'total']);
      expect(result).toMatchObject({
        total: 11,
        today: 3,
        successful: 5,
        success_rate: 0.4545,
        // (100 + 50 + 200 + 300 + 400 + 500 + 600 + 700 + 800) / 9
        average_time_ms: 405.56,
        by_language: [
          { language: 'python', count: 8 },
          { language: 'javascript', count: 3 },
        ],
      });
    });

    it('per_day: 30 UTC days by default, oldest first, ending today, days without runs as 0', async () => {
      const { per_day: perDay } = await stats(runner.id);
      expect(perDay).toHaveLength(30);
      expect(perDay.map((day) => day.date)).toEqual(Array.from({ length: 30 }, (_, i) => daysAgo(29 - i)));
      const expected: Record<string, { count: number; successful: number }> = {
        [today]: { count: 3, successful: 1 },
        [daysAgo(1)]: { count: 2, successful: 1 },
        [daysAgo(3)]: { count: 2, successful: 1 },
        [daysAgo(10)]: { count: 1, successful: 1 },
        [daysAgo(29)]: { count: 1, successful: 0 },
      };
      for (const day of perDay) expect(day).toEqual({ date: day.date, ...(expected[day.date] ?? { count: 0, successful: 0 }) });
    });

    it('per_day has exactly `days` entries; the totals stay all-time', async () => {
      const week = await stats(runner.id, 7);
      expect(week.per_day.map((day) => day.date)).toEqual(Array.from({ length: 7 }, (_, i) => daysAgo(6 - i)));
      expect(week.per_day.map((day) => day.count)).toEqual([0, 0, 0, 2, 0, 2, 3]);
      expect(week.total).toBe(11);
      const single = await stats(runner.id, 1);
      expect(single.per_day).toEqual([{ date: today, count: 3, successful: 1 }]);
      expect((await stats(runner.id, 366)).per_day).toHaveLength(366);
    });

    it('a user without runs: zeros, no mean, no languages, and still every day', async () => {
      const idle = await app.registerUser();
      for (const userId of [idle.id, UNKNOWN_ID]) {
        const result = await stats(userId, 5);
        expect(result).toEqual({
          total: 0,
          today: 0,
          successful: 0,
          success_rate: 0,
          average_time_ms: null,
          by_language: [],
          per_day: Array.from({ length: 5 }, (_, i) => ({ date: daysAgo(4 - i), count: 0, successful: 0 })),
        });
      }
    });

    it('counts a real run as it is stored', async () => {
      const user = await app.registerUser();
      const run = await app.post('/execute', { code: 'print("counted")', language: 'python' }, { token: user.token });
      expect(run.status).toBe(200);
      expect(run.body.status).toBe('success');
      const result = await stats(user.id);
      expect(result).toMatchObject({
        total: 1, today: 1, successful: 1, success_rate: 1, average_time_ms: run.body.execution_time_ms, by_language: [{ language: 'python', count: 1 }],
      });
      expect(result.per_day.at(-1)).toEqual({ date: today, count: 1, successful: 1 });
    });

    it.each([[0], [367], [1.5], [-3]])('days = %p is refused (VALIDATION_ERROR on days)', async (days) => {
      const refused = stats(runner.id, days);
      await expect(refused).rejects.toBeInstanceOf(AppError);
      await expect(refused).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: { days: [expect.any(String)] } } });
    });

    it('reads only the covering (user_id, created_at) index for a user with many runs', async () => {
      const heavy = await app.registerUser();
      const others = await app.registerUser();
      // 20k runs of one user among 60k, spread over a year, time-ordered as they would be written.
      await app.query(
        `INSERT INTO executions (id, user_id, source, language, code, stdout, status, execution_time_ms, timeout_ms, memory_mb, created_at)
         SELECT gen_random_uuid(), CASE WHEN i % 3 = 0 THEN $1::uuid ELSE $2::uuid END, 'web',
                CASE WHEN i % 2 = 0 THEN 'python' ELSE 'javascript' END, repeat('print(' || i || ')' || chr(10), 10), 'output',
                CASE WHEN i % 4 = 0 THEN 'error' ELSE 'success' END, i % 300, 5000, 128, now() - i * interval '9 minutes'
           FROM generate_series(60000, 1, -1) AS i`,
        [heavy.id, others.id],
      );
      // Sets the visibility map (autovacuum does in production) and gives the planner statistics.
      await app.query('VACUUM ANALYZE executions');

      // The statement GetExecutionStatsHandler sends, run under EXPLAIN on the test's own connection.
      const explaining = new ExecutionRepository({
        query: async (sql: string, params: unknown[]) => (await app.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params)).rows,
      } as never);
      const explained = (await explaining.stats(heavy.id, 30)) as unknown as { 'QUERY PLAN': unknown };
      const nodes: Array<Record<string, any>> = [];
      const walk = (node: Record<string, any>) => {
        nodes.push(node);
        for (const child of node.Plans ?? []) walk(child);
      };
      walk((explained['QUERY PLAN'] as Array<{ Plan: Record<string, any> }>)[0].Plan);
      const reads = nodes.filter((node) => node['Relation Name'] === 'executions');
      expect(reads.map((node) => [node['Node Type'], node['Index Name']])).toEqual([
        ['Index Only Scan', 'executions_user_id_idx'],
        ['Index Only Scan', 'executions_user_id_idx'],
      ]);
      // Pages VACUUM could not yet mark all-visible (a transaction of the app's still open) cost a fetch each: a handful at most.
      for (const node of reads) expect(node['Heap Fetches']).toBeLessThan(200);

      expect((await stats(heavy.id)).total).toBe(20_000);
    });
  });

  describe('CountSnippetsQuery', () => {
    it('counts all of a user\'s snippets, or the public ones only', async () => {
      const owner = await app.registerUser();
      for (const isPublic of [true, false, true, false, true]) {
        const response = await app.post('/code-library', { title: 'Counted', code: 'print(1)', is_public: isPublic }, { token: owner.token });
        expect(response.status).toBe(201);
      }
      await app.post('/code-library', { title: 'Not counted', code: 'print(2)', is_public: true }, { token: (await app.registerUser()).token });
      expect(await queries.execute(new CountSnippetsQuery(owner.id, false))).toBe(5);
      expect(await queries.execute(new CountSnippetsQuery(owner.id, true))).toBe(3);
    });

    it('0 for a user without snippets and for an unknown id', async () => {
      const idle = await app.registerUser();
      expect(await queries.execute(new CountSnippetsQuery(idle.id, false))).toBe(0);
      expect(await queries.execute(new CountSnippetsQuery(UNKNOWN_ID, true))).toBe(0);
    });
  });
});
