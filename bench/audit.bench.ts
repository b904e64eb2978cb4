import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataSource } from 'typeorm';
import { readAppConfig } from '../src/config/app-config';
import { AppLogger } from '../src/common/logging/app-logger';
import { dataSourceOptions } from '../src/database/data-source';
import { runMigrations } from '../src/database/migrate';
import { PartitionMaintainer, monthStart } from '../src/database/partitions';
import { AuditEntry } from '../src/modules/audit/audit-entry';
import { COPY_SQL, copyStream } from '../src/modules/audit/audit-copy';
import { AuditWriter } from '../src/modules/audit/audit-writer';
import {
  backendPids, BENCH_ADMIN_PASSWORD, ChildServer, createBenchDatabase, findPostgresServer, Goal, ms, num, percentile, postJson, printGoals,
  printTable, processCpuSeconds, registerUser, runBenchmark, runLoad, sleep, startAppChild, timeSequential,
} from './support';

/**
 * npm run bench:audit — the three goals, each against a baseline in the same run:
 * (a) a state-changing endpoint (POST /code-library) with auditing off, on (AUDIT_DURABILITY=sync, the
 *     default: the response waits for its committed entry) and on (async): ≤ 10 % loss with sync;
 * (b) 1 M entries through AuditWriter against a plain COPY of the same rows: ≥ 100 k rows/s and ≥ 0.5×;
 * (c) GET /admin/logs for one user over one day with 5 M rows over six months: p95 ≤ 50 ms.
 */
const INGEST_ROWS = Number(process.env.BENCH_AUDIT_ROWS ?? 1_000_000);
const HISTORY_ROWS = Number(process.env.BENCH_AUDIT_HISTORY_ROWS ?? 5_000_000);
const USERS = 2000;

function entry(i: number, userId: string, createdAt: Date): AuditEntry {
  return {
    created_at: createdAt,
    user_id: userId,
    action: i % 3 === 0 ? 'api_key.create' : 'user.login',
    resource_type: i % 3 === 0 ? 'api_key' : 'user',
    resource_id: userId,
    status_code: i % 10 === 0 ? 401 : 200,
    method: 'POST',
    path: '/api/v1/auth/login',
    ip: '127.0.0.1',
    user_agent: 'bench/1.0',
    request_id: randomUUID(),
    duration_ms: 3,
    metadata: { username: `bench_${i % USERS}` },
  };
}

/**
 * (a)'s endpoint is POST /code-library (add a snippet to my library): the most
 * ordinary state-changing request of the API — a bearer token, a small JSON body
 * validated, one row inserted, 201 with the row — and an audited one, like every
 * write. POST /auth/test-token is measured as well, as the worst case and not
 * as the goal: it is audited because it is a POST, but it changes nothing and
 * answers from a cache without touching the database, so the audit entry is
 * most of the work it causes. The goal gets more alternating rounds: on this
 * 2-core machine one 10 s run of it varies by ±10 % between identical runs.
 */
const AUDITED_ENDPOINTS = [
  { name: 'POST /api/v1/code-library', path: '/api/v1/code-library', body: { title: 'Fibonacci', code: 'print(sum(range(10)))', tags: ['math'] }, rounds: 4, goal: true },
  { name: 'POST /api/v1/auth/test-token (worst case, not a goal)', path: '/api/v1/auth/test-token', body: undefined, rounds: 2, goal: false },
];
/** Longer than AUDIT_FLUSH_INTERVAL_MS, so the entries of earlier requests are written before a run and its own ones before its CPU is read. */
const FLUSH_WAIT_MS = 1500;

interface AuditRun {
  reqPerSec: number;
  p50: number;
  p99: number;
  /** CPU µs per request: the app's process, and the PostgreSQL backends of its database (NaN when the server is not on this machine). */
  appCpu: number;
  pgCpu: number;
}

/** CPU seconds so far of each PostgreSQL backend connected to `database` (empty when the server is not on this machine). */
async function backendCpu(serverUrl: string, database: string): Promise<Map<number, number>> {
  const cpu = new Map<number, number>();
  for (const pid of await backendPids(serverUrl, database)) {
    const seconds = processCpuSeconds(pid);
    if (Number.isFinite(seconds)) cpu.set(pid, seconds);
  }
  return cpu;
}

/**
 * CPU the backends used between two snapshots: a backend that connected in
 * between counts from zero; one that disconnected in between (the pool closes
 * idle connections) is missing, which undercounts only what it did before closing.
 */
function backendCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  if (after.size === 0) return NaN;
  let seconds = 0;
  for (const [pid, end] of after) seconds += end - (before.get(pid) ?? 0);
  return seconds;
}

const AUDIT_MODES = {
  off: { AUDIT_ENABLED: 'false' },
  sync: { AUDIT_ENABLED: 'true', AUDIT_DURABILITY: 'sync' },
  async: { AUDIT_ENABLED: 'true', AUDIT_DURABILITY: 'async' },
} as const;
type AuditMode = keyof typeof AUDIT_MODES;

async function endpointWithAndWithoutAudit(serverUrl: string): Promise<Goal> {
  const apps = [] as Array<{ label: AuditMode; app: ChildServer; database: string; token: string }>;
  for (const label of Object.keys(AUDIT_MODES) as AuditMode[]) {
    const database = await createBenchDatabase(serverUrl);
    const app = await startAppChild(database.url, AUDIT_MODES[label]);
    apps.push({ label, app, database: database.name, token: (await registerUser(app.url)).token });
  }
  const rows: string[][] = [];
  const summaries: string[] = [];
  let goal: Goal | undefined;
  for (const endpoint of AUDITED_ENDPOINTS) {
    const runs: Record<AuditMode, AuditRun[]> = { off: [], sync: [], async: [] };
    // Alternating rounds, so drift on a noisy machine hits both sides alike.
    for (let round = 1; round <= endpoint.rounds; round++) {
      for (const { label, app, database, token } of apps) {
        const load = {
          url: `${app.url}${endpoint.path}`,
          method: 'POST' as const,
          headers: { authorization: `Bearer ${token}`, ...(endpoint.body ? { 'content-type': 'application/json' } : {}) },
          body: endpoint.body ? JSON.stringify(endpoint.body) : undefined,
          connections: 64,
          durationSeconds: 10,
        };
        await runLoad({ ...load, durationSeconds: 3 }); // warm-up, outside the CPU accounting
        await sleep(FLUSH_WAIT_MS);
        const pg0 = await backendCpu(serverUrl, database);
        const app0 = processCpuSeconds(app.pid);
        const result = await runLoad(load);
        await sleep(FLUSH_WAIT_MS);
        const pg1 = await backendCpu(serverUrl, database);
        const app1 = processCpuSeconds(app.pid);
        if (result.non2xx || result.errors) throw new Error(`${endpoint.path}, audit ${label}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        const run = {
          reqPerSec: result.reqPerSec, p50: result.p50, p99: result.p99,
          appCpu: ((app1 - app0) / result.requests) * 1e6, pgCpu: (backendCpuBetween(pg0, pg1) / result.requests) * 1e6,
        };
        runs[label].push(run);
        rows.push([endpoint.name, `round ${round}, audit ${label}`, num(run.reqPerSec), ms(result.p50), ms(result.p99), num(run.appCpu, 1), num(run.pgCpu, 1)]);
      }
    }
    const mean = (list: AuditRun[], key: keyof AuditRun) => list.reduce((sum, run) => sum + run[key], 0) / list.length;
    const off = mean(runs.off, 'reqPerSec');
    const latency = (mode: AuditMode) => `p50 ${ms(mean(runs[mode], 'p50'))}, p99 ${ms(mean(runs[mode], 'p99'))}`;
    summaries.push(`${endpoint.name}, audit off: ${num(off)} req/s, ${latency('off')}`);
    const lossOf = (mode: AuditMode) => (1 - mean(runs[mode], 'reqPerSec') / off) * 100;
    for (const mode of ['sync', 'async'] as const) {
      const cpu = `auditing cost ${num(mean(runs[mode], 'appCpu') - mean(runs.off, 'appCpu'), 1)} µs of app CPU and ` +
        `${num(mean(runs[mode], 'pgCpu') - mean(runs.off, 'pgCpu'), 1)} µs of PostgreSQL CPU per request`;
      summaries.push(`${endpoint.name}, audit ${mode}: ${num(lossOf(mode), 1)} % req/s lost (${num(mean(runs[mode], 'reqPerSec'))} req/s), ${latency(mode)}; ${cpu}`);
    }
    if (endpoint.goal) {
      const loss = lossOf('sync');
      goal = { name: '(a) req/s lost to auditing (sync)', actual: `${num(loss, 1)} % (${num(mean(runs.sync, 'reqPerSec'))} vs ${num(off)} req/s)`, target: '≤ 10 %', pass: loss <= 10 };
    }
  }
  for (const { app } of apps) await app.stop();
  printTable('(a) audited POSTs, 64 connections, 10 s per run; CPU in µs per request', ['endpoint', 'run', 'req/s', 'p50', 'p99', 'app CPU', 'PostgreSQL CPU'], rows);
  for (const summary of summaries) console.log(summary);
  return goal!;
}

async function ingestion(serverUrl: string): Promise<Goal[]> {
  const { url } = await createBenchDatabase(serverUrl);
  await runMigrations(url);
  const config = readAppConfig({ AUDIT_BUFFER_SIZE: String(INGEST_ROWS * 2), AUDIT_FLUSH_INTERVAL_MS: '1000' });
  const dataSource = await new DataSource({ ...dataSourceOptions(url, 4), entities: [] }).initialize();
  try {
    await new PartitionMaintainer(dataSource, [{ table: 'audit_logs', retentionDays: 365 }]).maintain();
    const users = Array.from({ length: USERS }, () => randomUUID());
    const now = new Date();
    const entries = Array.from({ length: INGEST_ROWS }, (_, i) => entry(i, users[i % USERS], now));

    // Baseline: the same rows, encoded beforehand in the writer's format (binary
    // COPY), streamed as one COPY by a bare client.
    const encoded = Buffer.concat([...copyStream(entries)]);
    const client = new Client({ connectionString: url });
    await client.connect();
    let start = process.hrtime.bigint();
    await pipeline(Readable.from([encoded]), client.query(copyFrom(COPY_SQL)));
    const copySeconds = Number(process.hrtime.bigint() - start) / 1e9;
    await client.query('TRUNCATE audit_logs');
    await client.end();

    // The component: record() every entry as requests would, then wait until all are written.
    const writer = new AuditWriter(dataSource, new AppLogger('warn'), config);
    start = process.hrtime.bigint();
    for (const e of entries) writer.record(e);
    await writer.flush();
    const writerSeconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (writer.written !== INGEST_ROWS) throw new Error(`AuditWriter wrote ${writer.written} of ${INGEST_ROWS}`);

    const copyRate = INGEST_ROWS / copySeconds;
    const writerRate = INGEST_ROWS / writerSeconds;
    printTable(`(b) ingesting ${INGEST_ROWS} audit entries`, ['path', 'seconds', 'rows/s'], [
      ['plain COPY, one statement (rows pre-encoded, binary format)', num(copySeconds, 2), num(copyRate)],
      ['AuditWriter.record() + flush', num(writerSeconds, 2), num(writerRate)],
    ]);
    return [
      { name: '(b) AuditWriter rows/s', actual: num(writerRate), target: '≥ 100000', pass: writerRate >= 100_000 },
      { name: '(b) AuditWriter / plain COPY', actual: `${num(writerRate / copyRate, 2)}×`, target: '≥ 0.5×', pass: writerRate / copyRate >= 0.5 },
    ];
  } finally {
    await dataSource.destroy();
  }
}

async function oneUserOneDay(serverUrl: string): Promise<Goal> {
  const { url } = await createBenchDatabase(serverUrl);
  await runMigrations(url);
  const dataSource = await new DataSource({ ...dataSourceOptions(url, 2), entities: [] }).initialize();
  const now = new Date();
  const maintainer = new PartitionMaintainer(dataSource, [{ table: 'audit_logs', retentionDays: 365 }]);
  for (let back = 6; back >= 0; back--) await maintainer.maintain(monthStart(now, -back));
  // Six months of history for USERS users, generated inside PostgreSQL. The
  // secondary indexes are rebuilt after the load (the same indexes, built in bulk)
  // because maintaining them row by row would make the set-up take many minutes.
  const started = Date.now();
  const indexes: Array<{ indexdef: string; indexname: string }> = await dataSource.query(
    `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'audit_logs' AND indexname <> 'audit_logs_pkey'`,
  );
  for (const index of indexes) await dataSource.query(`DROP INDEX ${index.indexname}`);
  await dataSource.query(
    `INSERT INTO audit_logs (created_at, user_id, action, resource_type, resource_id, status_code, method, path, ip, user_agent, request_id, duration_ms, metadata)
     SELECT now() - random() * interval '180 days',
            ('00000000-0000-4000-8000-' || lpad(to_hex(i % ${USERS}), 12, '0'))::uuid,
            CASE WHEN i % 3 = 0 THEN 'api_key.create' ELSE 'user.login' END,
            CASE WHEN i % 3 = 0 THEN 'api_key' ELSE 'user' END,
            NULL, CASE WHEN i % 10 = 0 THEN 401 ELSE 200 END, 'POST', '/api/v1/auth/login', '127.0.0.1', 'bench/1.0',
            md5(i::text), 3, '{}'::jsonb
       FROM generate_series(1, ${HISTORY_ROWS}) AS i`,
  );
  // pg_indexes shows a partitioned index as `ON ONLY`, which would skip the partitions.
  for (const index of indexes) await dataSource.query(index.indexdef.replace(' ON ONLY ', ' ON '));
  await dataSource.query('VACUUM ANALYZE audit_logs');
  const loadSeconds = (Date.now() - started) / 1000;
  await dataSource.destroy();

  const app = await startAppChild(url, {});
  const login = await postJson(`${app.url}/api/v1/auth/login`, { username: 'admin', password: BENCH_ADMIN_PASSWORD });
  const token = login.body.tokens.access as string;
  const user = '00000000-0000-4000-8000-00000000002a';
  const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 3));
  const dayEnd = new Date(dayStart.getTime() + 86_400_000);
  const path = `/api/v1/admin/logs?user_id=${user}&from=${dayStart.toISOString()}&to=${dayEnd.toISOString()}`;
  let found = 0;
  const samples = await timeSequential(300, async () => {
    const response = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { pagination: { total: number } };
    if (response.status !== 200) throw new Error(`GET /admin/logs answered ${response.status}`);
    found = body.pagination.total;
  }, 10);
  await app.stop();
  const p95 = percentile(samples, 95);
  printTable(`(c) GET /admin/logs, one user, one day, ${HISTORY_ROWS} rows over 6 months (loaded in ${num(loadSeconds)} s)`, ['requests', 'rows that day', 'p50', 'p95', 'p99'], [
    [String(samples.length), String(found), ms(percentile(samples, 50)), ms(p95), ms(percentile(samples, 99))],
  ]);
  return { name: '(c) one user, one day p95', actual: ms(p95), target: '≤ 50 ms', pass: p95 <= 50 };
}

runBenchmark(async () => {
  const { serverUrl, source } = await findPostgresServer();
  console.log(`PostgreSQL: ${source}`);
  // BENCH_AUDIT_PARTS=a (or b, c, any mix) runs only those parts.
  const parts = process.env.BENCH_AUDIT_PARTS ?? 'abc';
  const goals: Goal[] = [];
  if (parts.includes('a')) goals.push(await endpointWithAndWithoutAudit(serverUrl));
  if (parts.includes('b')) goals.push(...(await ingestion(serverUrl)));
  if (parts.includes('c')) goals.push(await oneUserOneDay(serverUrl));
  printGoals(goals);
});
