import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { freePort } from '../src/common/net/free-port';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { adminQuery, canConnect, urlFor } from '../src/database/server-admin';

export { freePort, urlFor };

/**
 * Shared helpers for the benchmarks in bench/: a PostgreSQL server and a
 * throw-away database, the app and other servers in child processes (so the
 * load generator never shares an event loop with what it measures), autocannon
 * runs, percentiles and a result table with PASS/FAIL per goal.
 */

/** Repository root (bench files run from dist/bench/). */
export const ROOT = resolve(__dirname, '..', '..');
export const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';
export const BENCH_JWT_SECRET = 'bench-jwt-secret-0123456789-abcdefghijklm'; // 40+ chars, fixed
export const BENCH_ADMIN_PASSWORD = 'admin-password-123';

// ---------------------------------------------------------------- cleanup

type Cleanup = () => unknown;
const cleanups: Cleanup[] = [];

/** Registers work to undo at the end (last registered runs first). */
export function onCleanup(fn: Cleanup): void {
  cleanups.push(fn);
}

/** Runs every registered cleanup once, in reverse order; errors are reported, not thrown. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (error) {
      console.error(`cleanup failed: ${(error as Error).message}`);
    }
  }
}

/**
 * Runs a benchmark: cleanups run on success, on error and on Ctrl-C/SIGTERM.
 * The exit code is 0 unless the benchmark itself could not run.
 */
export function runBenchmark(main: () => Promise<void>): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal} received; cleaning up`);
    void runCleanups().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  main()
    .then(async () => {
      await runCleanups();
      process.exit(0);
    })
    .catch(async (error: unknown) => {
      console.error(`benchmark failed: ${(error as Error).stack ?? String(error)}`);
      await runCleanups();
      process.exit(1);
    });
}

// ---------------------------------------------------------------- misc

/** A temp dir removed at cleanup; `mode` e.g. 0o755 when another user (postgres) must reach it. */
export function tempDir(prefix: string, mode?: number): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (mode !== undefined) chmodSync(dir, mode);
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- database

/**
 * A PostgreSQL server for the benchmark: DATABASE_URL, else 127.0.0.1:5432,
 * else an embedded one in a temp dir (stopped at cleanup). BENCH_EMBEDDED=true
 * skips the first two.
 */
export async function findPostgresServer(): Promise<{ serverUrl: string; source: string }> {
  const forceEmbedded = /^(1|true|yes)$/i.test(process.env.BENCH_EMBEDDED ?? '');
  const given = process.env.DATABASE_URL;
  if (given && !forceEmbedded) return { serverUrl: given, source: 'DATABASE_URL' };
  if (!forceEmbedded && (await canConnect(LOCAL_SERVER))) return { serverUrl: LOCAL_SERVER, source: '127.0.0.1:5432' };
  // As root, embedded PostgreSQL runs as the postgres user, which must reach the directory.
  const dir = tempDir('coderunner-bench-pg-', 0o755);
  const embedded = new EmbeddedPostgres(dir, { log: () => undefined, warn: (m) => console.error(m) });
  const serverUrl = await embedded.start();
  onCleanup(() => embedded.stop());
  return { serverUrl, source: `embedded PostgreSQL in ${dir}` };
}

/** Creates an empty database named <prefix>_<random> (dropped at cleanup); returns its URL. */
export async function createBenchDatabase(serverUrl: string, prefix = 'coderunner_bench'): Promise<{ name: string; url: string }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  if (!/^[a-z0-9_]+$/.test(name) || !name.includes('bench')) throw new Error(`refusing database name ${name}`);
  await adminQuery(serverUrl, `CREATE DATABASE ${name}`);
  onCleanup(() => adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  return { name, url: urlFor(serverUrl, name) };
}

// ---------------------------------------------------------------- child processes

export interface ChildServer {
  name: string;
  url: string;
  pid: number;
  /** The last ~16 kB of stdout+stderr. */
  output(): string;
  stop(): Promise<number | null>;
}

export interface StartChildOptions {
  name: string;
  args: string[];
  env: Record<string, string | undefined>;
  port: number;
  /** Path polled until it answers 200. */
  readyPath: string;
  timeoutMs?: number;
}

/**
 * Starts `node <args>` with exactly `env` (plus PATH and HOME), waits until
 * GET readyPath answers 200. Stopped with SIGTERM (SIGKILL after 30 s) at cleanup.
 */
export async function startNodeChild(options: StartChildOptions): Promise<ChildServer> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
  const child: ChildProcess = spawn(process.execPath, options.args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-16_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | null>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));

  const stop = async (): Promise<number | null> => {
    if (exitCode !== undefined) return exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  onCleanup(stop);

  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (exitCode !== undefined) throw new Error(`${options.name} exited with ${exitCode} before it was ready:\n${output.trim()}`);
    try {
      const response = await fetch(`${url}${options.readyPath}`);
      await response.arrayBuffer();
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.name} was not ready within ${options.timeoutMs ?? 120_000} ms:\n${output.trim()}`);
    }
    await sleep(200);
  }
  return { name: options.name, url, pid: child.pid!, output: () => output, stop };
}

/**
 * The compiled app (dist/src/main.js) on `databaseUrl`, with benchmark-friendly
 * settings; `nodeArgs` go to node before the script (e.g. --expose-gc).
 */
export async function startAppChild(databaseUrl: string, env: Record<string, string | undefined> = {}, nodeArgs: string[] = []): Promise<ChildServer> {
  const port = await freePort();
  return startNodeChild({
    name: 'CodeRunner',
    args: [...nodeArgs, join(ROOT, 'dist', 'src', 'main.js')],
    port,
    readyPath: '/api/v1/health',
    env: {
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: tempDir('coderunner-bench-data-'),
      LOG_LEVEL: 'warn',
      ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
      RATE_LIMIT_ENABLED: 'false',
      JWT_SECRET: BENCH_JWT_SECRET,
      ENCRYPTION_KEY: 'bench-encryption-key-0123456789',
      ...env,
    },
  });
}

/** A bare Fastify hello-world (GET / → {"hello":"world"}), the baseline for the app's overhead. */
export async function startBareFastifyChild(): Promise<ChildServer> {
  const port = await freePort();
  const script = `
    const fastify = require('fastify')({ logger: false });
    fastify.get('/', async () => ({ hello: 'world' }));
    fastify.listen({ port: ${port}, host: '127.0.0.1' }).catch((e) => { console.error(e); process.exit(1); });
    for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => fastify.close().then(() => process.exit(0)));
  `;
  return startNodeChild({ name: 'bare Fastify', args: ['-e', script], port, readyPath: '/', env: { NODE_ENV: 'production' } });
}

// ---------------------------------------------------------------- HTTP

export async function postJson<T = any>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Registers a fresh user; returns its credentials and access token. */
export async function registerUser(appUrl: string): Promise<{ username: string; email: string; password: string; token: string }> {
  const n = randomBytes(4).toString('hex');
  const input = { username: `bench_${n}`, email: `bench_${n}@example.test`, password: 'bench-password-123' };
  const response = await postJson(`${appUrl}/api/v1/auth/register`, input);
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { ...input, token: response.body.tokens.access as string };
}

// ---------------------------------------------------------------- load

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
  /** Seconds of the same load first, not measured. */
  warmupSeconds?: number;
  /** Makes each request its own (path, headers), e.g. a token per request; `url` then gives only the origin. */
  next?: () => { path: string; headers?: Record<string, string> };
  /** Connects to this Unix socket instead of `url`'s host and port (`url` then gives only the Host header and path). */
  socketPath?: string;
}

export interface LoadResult {
  requests: number;
  reqPerSec: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Responses by status code. */
  statuses: Record<string, number>;
}

function cannon(options: LoadOptions, duration: number, latencies?: number[]): Promise<autocannon.Result> {
  return new Promise((resolveRun, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        socketPath: options.socketPath,
        method: options.method ?? 'GET',
        headers: options.headers,
        body: options.body,
        connections: options.connections,
        duration,
        requests: options.next
          ? [
              {
                setupRequest: (request: any) => {
                  const { path, headers } = options.next!();
                  return { ...request, path, headers: { ...request.headers, ...headers } };
                },
              },
            ]
          : undefined,
      },
      (error, result) => (error ? reject(error) : resolveRun(result)),
    );
    if (latencies) {
      instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTime: number) => {
        latencies.push(responseTime);
      });
    }
  });
}

/**
 * autocannon at a fixed number of connections, after a warm-up. Percentiles
 * come from every response time (autocannon's own summary has no p95).
 * `meter`, if given, is read just before and after the measured run; `used`
 * is the difference of each of its readings (CPU seconds, bytes written, …).
 */
export async function runLoad<K extends string = never>(
  options: LoadOptions,
  meter?: () => Promise<Record<K, number>>,
): Promise<LoadResult & { used: Record<K, number> }> {
  if (options.warmupSeconds) await cannon(options, options.warmupSeconds);
  const latencies: number[] = [];
  const before = meter ? await meter() : undefined;
  const result = await cannon(options, options.durationSeconds, latencies);
  const after = meter ? await meter() : undefined;
  const used = {} as Record<K, number>;
  if (before && after) for (const key of Object.keys(after) as K[]) used[key] = after[key] - before[key];
  const statuses: Record<string, number> = {};
  for (const [code, stats] of Object.entries((result as any).statusCodeStats ?? {})) statuses[code] = (stats as { count: number }).count;
  return {
    requests: result.requests.total,
    reqPerSec: result.requests.total / options.durationSeconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    max: latencies.length ? latencies.reduce((a, b) => (b > a ? b : a), 0) : NaN,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statuses,
    used,
  };
}

/** Times `fn` `count` times in a row (after `warmup` untimed calls); milliseconds. */
export async function timeSequential(count: number, fn: () => Promise<unknown>, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return samples;
}

// ---------------------------------------------------------------- CPU accounting

/**
 * CPU seconds (user + system) a process on this machine has used so far, from
 * /proc/<pid>/stat; NaN where that cannot be read (not Linux, another host).
 * The kernel reports these in USER_HZ ticks, which is 100 on Linux.
 */
export function processCpuSeconds(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/** Resident memory of a process on this machine in bytes, from /proc/<pid>/status (VmRSS); NaN where that cannot be read. */
export function processRssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** The pids of the PostgreSQL backends connected to `database` (to read their CPU time when the server runs here). */
export async function backendPids(serverUrl: string, database: string): Promise<number[]> {
  const client = new Client({ connectionString: urlFor(serverUrl, 'postgres') });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------- statistics and output

/** Nearest-rank percentile (p in 0..100) of unsorted samples. */
export function percentile(samples: number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 2 : 1)} ms` : 'n/a');
export const num = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export function printTable(title: string, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

export interface Goal {
  name: string;
  actual: string;
  target: string;
  pass: boolean;
}

export function printGoals(goals: Goal[]): void {
  printTable(
    'Goals',
    ['goal', 'measured', 'target', 'result'],
    goals.map((g) => [g.name, g.actual, g.target, g.pass ? 'PASS' : 'FAIL']),
  );
  const failed = goals.filter((g) => !g.pass).length;
  console.log(failed ? `\n${failed} of ${goals.length} goals FAILED` : `\nAll ${goals.length} goals PASSED`);
}
