import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AppError } from '../../src/common/errors/app-error';
import { createValidationPipe } from '../../src/common/errors/validation.pipe';
import { AppLogger } from '../../src/common/logging/app-logger';
import { readAppConfig } from '../../src/config/app-config';
import { partitionedTables } from '../../src/database/partitioned-tables';
import { PartitionMaintainer, monthStart, partitionName } from '../../src/database/partitions';
import { DeploymentLogsRequest } from '../../src/modules/deployments/http/dto/deployment-logs.dto';
import { DeploymentLogPage, DeploymentLogView } from '../../src/modules/deployments/logs/deployment-log';
import { DeploymentLogWriter } from '../../src/modules/deployments/logs/deployment-log-writer';
import { DeploymentLogRepository } from '../../src/modules/deployments/logs/deployment-log.repository';
import { MAX_LINE_BYTES } from '../../src/modules/deployments/runtime/app-sandbox';
import { DeploymentLogFilters, ListDeploymentLogsHandler, ListDeploymentLogsQuery } from '../../src/modules/deployments/queries/list-deployment-logs.query';
import { TestApp } from '../support/test-app';

/**
 * Deployment logs against the real database: the writer's COPY, the list's
 * SQL and its plan, the partitions and their maintenance. DeploymentsModule
 * does not register these providers yet, so the test builds them on the
 * app's DataSource, and validates query strings with the app's own pipe.
 */

let app: TestApp;
let db: DataSource;
let repository: DeploymentLogRepository;
let writer: DeploymentLogWriter;
let handler: ListDeploymentLogsHandler;
const LINES_PER_SECOND = 50;

beforeAll(async () => {
  app = await TestApp.start();
  db = app.running.app.get(DataSource);
  repository = new DeploymentLogRepository(db);
  writer = new DeploymentLogWriter(db, new AppLogger('silent'), readAppConfig({ DEPLOY_LOG_LINES_PER_SECOND: String(LINES_PER_SECOND) }), repository);
  handler = new ListDeploymentLogsHandler(repository);
});

afterAll(async () => {
  await writer.beforeApplicationShutdown();
  await app.stop();
});

afterEach(() => {
  jest.restoreAllMocks();
});

/** A query string as the controller will receive it, through the app's ValidationPipe, then the query. */
async function list(deploymentId: string, query: Record<string, string> = {}): Promise<DeploymentLogPage> {
  const filters = (await createValidationPipe().transform(query, { type: 'query', metatype: DeploymentLogsRequest })) as DeploymentLogFilters;
  return handler.execute(new ListDeploymentLogsQuery(deploymentId, filters));
}

/** The error a query string (or a cursor) is refused with. */
async function refusal(deploymentId: string, query: Record<string, string>): Promise<AppError> {
  try {
    await list(deploymentId, query);
  } catch (error) {
    return error as AppError;
  }
  throw new Error('not refused');
}

/** Every page, following next_cursor; checks that each has at most `limit` lines. */
async function allPages(deploymentId: string, query: Record<string, string>, limit: number): Promise<DeploymentLogView[][]> {
  const pages: DeploymentLogView[][] = [];
  let cursor: string | null = null;
  do {
    const page: DeploymentLogPage = await list(deploymentId, { ...query, limit: String(limit), ...(cursor ? { cursor } : {}) });
    expect(page.logs.length).toBeLessThanOrEqual(limit);
    pages.push(page.logs);
    cursor = page.next_cursor;
  } while (cursor);
  return pages;
}

async function insertAt(deploymentId: string, rows: Array<{ at: string; level?: string; message: string }>): Promise<void> {
  for (const row of rows) {
    await app.query(`INSERT INTO deployment_logs (deployment_id, created_at, level, source, message) VALUES ($1, $2, $3, 'stdout', $4)`, [
      deploymentId, row.at, row.level ?? 'info', row.message,
    ]);
  }
}

async function partitionsOf(table: string): Promise<string[]> {
  const { rows } = await app.query(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
      WHERE p.relname = $1 ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name as string);
}

describe('storing lines', () => {
  it('writes output and platform lines with COPY, with levels, the 16 KB cut and metadata', async () => {
    const id = randomUUID();
    writer.append(id, { source: 'stdout', message: 'listening on 8080' });
    writer.append(id, { source: 'stderr', message: 'deprecated: util.print' });
    writer.append(id, { source: 'platform', message: 'status: running', metadata: { from: 'starting', to: 'running' } });
    writer.append(id, { source: 'stdout', message: `€${'x'.repeat(MAX_LINE_BYTES)}` });
    writer.append(id, { source: 'stdout', message: 'nul \0 inside' });
    writer.append(id, { source: 'stderr', level: 'error', message: 'TypeError: boom' });
    await writer.flush();

    const { logs, next_cursor: next } = await list(id);
    expect(next).toBeNull();
    expect(logs.map((l) => [l.source, l.level, l.truncated])).toEqual([
      ['stderr', 'error', false], ['stdout', 'info', false], ['stdout', 'info', true], ['platform', 'info', false], ['stderr', 'warn', false], ['stdout', 'info', false],
    ]);
    expect(logs[1].message).toBe('nul \uFFFD inside');
    expect(Buffer.byteLength(logs[2].message)).toBe(MAX_LINE_BYTES);
    expect(logs[2].message.startsWith('€x')).toBe(true);
    expect(logs[3].metadata).toEqual({ from: 'starting', to: 'running' });
    expect(logs[5]).toEqual({ timestamp: expect.any(String), level: 'info', source: 'stdout', message: 'listening on 8080', truncated: false, metadata: {} });
    expect(Date.parse(logs[5].timestamp)).toBeLessThanOrEqual(Date.now());
  });

  it('drops a flood over the rate and writes one "N lines dropped" line before the next', async () => {
    const id = randomUUID();
    const other = randomUUID();
    let now = Date.now();
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    const accepted = Array.from({ length: 3 * LINES_PER_SECOND }, (_, i) => writer.append(id, { source: 'stdout', message: `flood ${i}` }));
    expect(accepted.filter(Boolean)).toHaveLength(2 * LINES_PER_SECOND); // the burst
    expect(writer.append(other, { source: 'stdout', message: 'unaffected' })).toBe(true);
    expect(writer.append(id, { source: 'platform', level: 'error', message: 'crashed (exit 1)' })).toBe(true);
    now += 1000 / LINES_PER_SECOND; // one token
    expect(writer.append(id, { source: 'stdout', message: 'calm again' })).toBe(true);
    await writer.flush();

    const { logs } = await list(id, { limit: '1000' });
    expect(logs).toHaveLength(2 * LINES_PER_SECOND + 3);
    expect(logs.slice(0, 3).map((l) => [l.source, l.level, l.message])).toEqual([
      ['stdout', 'info', 'calm again'],
      ['platform', 'warn', `${LINES_PER_SECOND} lines dropped (over DEPLOY_LOG_LINES_PER_SECOND)`],
      ['platform', 'error', 'crashed (exit 1)'],
    ]);
    expect(logs[1].metadata).toEqual({ dropped_lines: LINES_PER_SECOND, over_rate: LINES_PER_SECOND });
    expect(logs.at(-1)!.message).toBe('flood 0');
    expect((await list(other)).logs.map((l) => l.message)).toEqual(['unaffected']);
  });
});

describe('listing', () => {
  const id = randomUUID();
  const month = monthStart(new Date());
  const at = (days: number) => new Date(month.getTime() + days * 86_400_000).toISOString();

  beforeAll(async () => {
    await insertAt(id, [
      { at: at(1), level: 'debug', message: 'd1' },
      { at: at(2), level: 'info', message: 'i2' },
      { at: at(3), level: 'warn', message: 'w3' },
      { at: at(4), level: 'error', message: 'e4' },
      { at: at(35), level: 'info', message: 'next month' },
    ]);
  });

  it('is newest first; level means this level or a more severe one', async () => {
    expect((await list(id)).logs.map((l) => l.message)).toEqual(['next month', 'e4', 'w3', 'i2', 'd1']);
    expect((await list(id, { level: 'debug' })).logs).toHaveLength(5);
    expect((await list(id, { level: 'info' })).logs.map((l) => l.message)).toEqual(['next month', 'e4', 'w3', 'i2']);
    expect((await list(id, { level: 'warn' })).logs.map((l) => l.message)).toEqual(['e4', 'w3']);
    expect((await list(id, { level: 'error' })).logs.map((l) => l.message)).toEqual(['e4']);
  });

  it('takes start_time and end_time, both inclusive, alone or together, with the level', async () => {
    expect((await list(id, { start_time: at(3) })).logs.map((l) => l.message)).toEqual(['next month', 'e4', 'w3']);
    expect((await list(id, { end_time: at(2) })).logs.map((l) => l.message)).toEqual(['i2', 'd1']);
    expect((await list(id, { start_time: at(2), end_time: at(4) })).logs.map((l) => l.message)).toEqual(['e4', 'w3', 'i2']);
    expect((await list(id, { start_time: at(2), end_time: at(2) })).logs.map((l) => l.message)).toEqual(['i2']);
    expect((await list(id, { start_time: at(2), end_time: at(40), level: 'warn' })).logs.map((l) => l.message)).toEqual(['e4', 'w3']);
  });

  it('pages by limit, with the filters kept along the cursor', async () => {
    const first = await list(id, { limit: '2' });
    expect(first.logs.map((l) => l.message)).toEqual(['next month', 'e4']);
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await list(id, { limit: '2', cursor: first.next_cursor! });
    expect(second.logs.map((l) => l.message)).toEqual(['w3', 'i2']);
    const last = await list(id, { limit: '2', cursor: second.next_cursor! });
    expect(last).toEqual({ logs: [expect.objectContaining({ message: 'd1' })], next_cursor: null });
    expect((await allPages(id, { level: 'info', end_time: at(30) }, 1)).map((page) => page.map((l) => l.message))).toEqual([['e4'], ['w3'], ['i2']]);
    // A page that ends exactly at the last line has no next one.
    expect((await list(id, { limit: '5' })).next_cursor).toBeNull();
  });

  it('pages through lines of the same instant without repeating or skipping one', async () => {
    const same = randomUUID();
    const instant = Date.parse(at(5));
    jest.spyOn(Date, 'now').mockReturnValue(instant);
    for (let i = 0; i < 95; i++) writer.append(same, { source: i % 2 ? 'stderr' : 'stdout', message: `same ${i}` });
    jest.spyOn(Date, 'now').mockReturnValue(instant + 1);
    for (let i = 0; i < 5; i++) writer.append(same, { source: 'stdout', message: `later ${i}` });
    await writer.flush();
    // Two rows of the same instant with microseconds (not written by the writer) in between.
    const micro = at(5).replace('.000Z', '.000500Z');
    await insertAt(same, [{ at: micro, message: 'micro a' }, { at: micro, message: 'micro b' }]);
    const everything = (await list(same, { limit: '1000' })).logs.map((l) => l.message);
    const expected = [
      ...Array.from({ length: 5 }, (_, i) => `later ${4 - i}`),
      'micro b', 'micro a',
      ...Array.from({ length: 95 }, (_, i) => `same ${94 - i}`),
    ];
    expect(everything).toEqual(expected);
    for (const limit of [1, 7, 10, 33, 102, 1000]) {
      const pages = await allPages(same, {}, limit);
      expect(pages.flat().map((l) => l.message)).toEqual(expected);
      expect(pages.length).toBe(Math.max(1, Math.ceil(expected.length / limit)));
    }
    expect((await allPages(same, { level: 'warn' }, 8)).flat()).toHaveLength(47);
  });

  it('refuses bad filters and cursors with VALIDATION_ERROR naming the field', async () => {
    const fields = async (query: Record<string, string>) => {
      const error = await refusal(id, query);
      expect(error).toBeInstanceOf(AppError);
      expect(error.status).toBe(400);
      expect(error.code).toBe('VALIDATION_ERROR');
      return Object.keys((error.details as { fields: Record<string, string[]> }).fields);
    };
    expect(await fields({ start_time: at(3), end_time: at(2) })).toEqual(['end_time']);
    expect(await fields({ start_time: 'yesterday' })).toEqual(['start_time']);
    expect(await fields({ level: 'fatal' })).toEqual(['level']);
    expect(await fields({ limit: '0' })).toEqual(['limit']);
    expect(await fields({ limit: '1001' })).toEqual(['limit']);
    expect(await fields({ limit: '2.5' })).toEqual(['limit']);
    expect(await fields({ cursor: 'x'.repeat(201) })).toEqual(['cursor']);
    expect(await fields({ cursor: 'not-a-cursor' })).toEqual(['cursor']);
    expect(await fields({ cursor: Buffer.from('1.2.3').toString('base64url') })).toEqual(['cursor']);
    expect(await fields({ page: '2' })).toEqual(['page']);
    // The default limit is 100, the largest 1000.
    const filters = (await createValidationPipe().transform({}, { type: 'query', metatype: DeploymentLogsRequest })) as DeploymentLogFilters;
    expect(filters.limit).toBe(100);
    expect((await list(id, { limit: '1000' })).logs).toHaveLength(5);
  });

  it('reads a busy deployment backwards along the primary key, no sort, pruning the months outside the range (EXPLAIN)', async () => {
    // A deployment with many lines over both months among many others', and statistics.
    const busy = randomUUID();
    await app.query(
      `INSERT INTO deployment_logs (deployment_id, created_at, level, source, message)
       SELECT CASE WHEN n % 2 = 0 THEN $2::uuid ELSE gen_random_uuid() END,
              $1::timestamptz + (n % 40) * interval '1 day' + (n % 1000) * interval '1 second',
              (ARRAY['debug', 'info', 'warn', 'error'])[n % 4 + 1], 'stdout', 'filler ' || n
         FROM generate_series(1, 40000) n`,
      [month.toISOString(), busy],
    );
    await app.query('ANALYZE deployment_logs');
    /** The plan of the statement the repository runs for this query string, with its parameters. */
    const plan = async (query: Record<string, string>): Promise<string> => {
      const spy = jest.spyOn(db, 'query');
      await list(busy, query);
      const [sql, params] = spy.mock.calls[0] as [string, unknown[]];
      spy.mockRestore();
      const rows: Array<{ 'QUERY PLAN': string }> = await db.query(`EXPLAIN ${sql}`, params);
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    };
    const thisMonth = partitionName('deployment_logs', month);
    const nextMonth = partitionName('deployment_logs', monthStart(month, 1));
    // Merge Append keeps each partition's index order; a Sort node would mean reading every line of the deployment.
    const noSort = (text: string) => expect(text).not.toMatch(/^\s*(->\s*)?Sort\s+\(/m);

    const all = await plan({ level: 'info', limit: '100' });
    expect(all).toMatch(new RegExp(`Index Scan Backward using ${thisMonth}_pkey`));
    expect(all).toMatch(new RegExp(`Index Scan Backward using ${nextMonth}_pkey`));
    noSort(all);

    const nextOnly = await plan({ start_time: monthStart(month, 1).toISOString(), end_time: new Date(monthStart(month, 1).getTime() + 86_400_000).toISOString() });
    expect(nextOnly).toMatch(new RegExp(`Index Scan Backward using ${nextMonth}_pkey`));
    expect(nextOnly).not.toContain(thisMonth);
    expect(nextOnly).not.toContain('deployment_logs_default');
    noSort(nextOnly);

    // start_time alone: the months before it are pruned (DEFAULT stays: it holds whatever is past the partitions).
    const fromNext = await plan({ start_time: monthStart(month, 1).toISOString() });
    expect(fromNext).toMatch(new RegExp(`Index Scan Backward using ${nextMonth}_pkey`));
    expect(fromNext).not.toContain(thisMonth);
    noSort(fromNext);

    const page = await list(busy, { limit: '10', start_time: month.toISOString() });
    const withCursor = await plan({ limit: '10', cursor: page.next_cursor!, start_time: month.toISOString() });
    expect(withCursor).toMatch(/Index Cond: \(\(deployment_id = .*\) AND \(ROW\(created_at, seq\) < ROW\(/);
    noSort(withCursor);
  });
});

describe('deleting a deployment', () => {
  it('removeAll deletes its lines, queued ones included, and no one else\'s', async () => {
    const gone = randomUUID();
    const kept = randomUUID();
    await insertAt(gone, [{ at: new Date().toISOString(), message: 'stored' }]);
    writer.append(gone, { source: 'stdout', message: 'still queued' });
    writer.append(kept, { source: 'stdout', message: 'stays' });
    expect(await writer.removeAll(gone)).toBe(2);
    expect((await list(gone)).logs).toEqual([]);
    expect((await list(kept)).logs.map((l) => l.message)).toEqual(['stays']);
  });
});

describe('partitions', () => {
  it('exist for this month and the next from the migration, besides DEFAULT', async () => {
    const month = monthStart(new Date());
    expect(await partitionsOf('deployment_logs')).toEqual(
      expect.arrayContaining(['deployment_logs_default', partitionName('deployment_logs', month), partitionName('deployment_logs', monthStart(month, 1))]),
    );
  });

  it('are registered for maintenance with RETENTION_LOGS_DAYS', () => {
    expect(partitionedTables(readAppConfig({}))).toContainEqual({ table: 'deployment_logs', retentionDays: 30 });
    expect(partitionedTables(readAppConfig({ RETENTION_LOGS_DAYS: '7' }))).toContainEqual({ table: 'deployment_logs', retentionDays: 7 });
  });

  // Last: it drops this month's partition.
  it('are created ahead, filled from DEFAULT and dropped past retention by the maintainer', async () => {
    const id = randomUUID();
    const month = monthStart(new Date());
    const far = monthStart(month, 5);
    await insertAt(id, [{ at: new Date(far.getTime() + 3_600_000).toISOString(), message: 'early arrival' }]);
    const maintainer = new PartitionMaintainer(db, [{ table: 'deployment_logs', retentionDays: 30 }]);

    const created = await maintainer.maintain(monthStart(month, 4));
    expect(created.created).toEqual([4, 5, 6].map((offset) => partitionName('deployment_logs', monthStart(month, offset))));
    expect(created.moved_rows).toBe(1);
    const { rows } = await app.query(`SELECT tableoid::regclass::text AS part FROM deployment_logs WHERE deployment_id = $1`, [id]);
    expect(rows).toEqual([{ part: partitionName('deployment_logs', far) }]);
    expect((await list(id)).logs.map((l) => l.message)).toEqual(['early arrival']);

    // RETENTION_LOGS_DAYS=30 four months on: this month's and next month's partitions are gone.
    expect(created.dropped).toEqual([partitionName('deployment_logs', month), partitionName('deployment_logs', monthStart(month, 1))]);
    expect(await partitionsOf('deployment_logs')).not.toContain(partitionName('deployment_logs', month));
    // A line older than every partition waits in DEFAULT until retention.purge deletes it.
    const old = randomUUID();
    await insertAt(old, [{ at: monthStart(month, -2).toISOString(), message: 'ancient' }]);
    const purged = await maintainer.purge(monthStart(month, 4));
    expect(purged.purged_default_rows).toBe(1);
    expect((await list(old)).logs).toEqual([]);
  });
});
