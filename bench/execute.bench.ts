import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpus, loadavg } from 'node:os';
import { readAppConfig } from '../src/config/app-config';
import { bwrapArgs, readSandboxLayout } from '../src/common/sandbox/sandbox-layout';
import {
  BENCH_ADMIN_PASSWORD,
  Goal,
  createBenchDatabase,
  findPostgresServer,
  ms,
  num,
  percentile,
  postJson,
  printGoals,
  printTable,
  runBenchmark,
  runLoad,
  startAppChild,
  timeSequential,
} from './support';

/**
 * `npm run bench:execute`: what a run costs, in one process run so the
 * ratios compare like with like on a noisy machine.
 *
 *  (a) bare `python3 -c 'print(1)'` spawns, no sandbox (the baseline);
 *  (b) the same inside a bubblewrap sandbox built like the app's;
 *  (c) POST /api/v1/execute `print(1)` end to end, one at a time, with the
 *      warm pool on (the default size, or BENCH_WARM_POOL) and off (0);
 *      Also, not a goal: the same with a pause between requests, so the pool has
 *      refilled before each one (back to back on 2 cores, each refill, a sandbox
 *      cloned and made ready, competes with the next request for the CPU);
 *  (d) throughput: 8 concurrent clients for BENCH_DURATION s (default 20), warm pool on.
 * With the warm pool off, a run's sandbox is cloned from a zygote when the request
 * arrives; the bench also shows, not as a goal, runs without zygotes (bubblewrap
 * and an interpreter started per run, as runs in an environment get).
 * Goals: (c) p50 ≤ 1.0× (a) with the warm pool, ≤ 2.0× without; (d) ≥ 40 runs/s.
 *
 * Knobs: BENCH_RUNS (sequential samples, default 60), BENCH_DURATION, BENCH_WARM_POOL,
 * SANDBOX_MEMORY_CGROUP=false (the rlimit + watch fallback), BENCH_EMBEDDED=true.
 * The app runs as an admin caller, so the daily quota does not end the benchmark.
 */

const RUNS = Number(process.env.BENCH_RUNS ?? 60);
const DURATION = Number(process.env.BENCH_DURATION ?? 20);
const CLIENTS = 8;
const WARM_POOL = process.env.BENCH_WARM_POOL ?? String(readAppConfig({}).execution.warmPoolSize);
const CODE = { code: 'print(1)', language: 'python' };

function spawnOnce(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && out.trim() === '1' ? resolve() : reject(new Error(`${command} exited ${code}: ${out}`))));
  });
}

async function adminToken(appUrl: string): Promise<string> {
  const response = await postJson(`${appUrl}/api/v1/auth/login`, { username: 'admin', password: BENCH_ADMIN_PASSWORD });
  if (response.status !== 200) throw new Error(`admin login failed: ${response.status}`);
  return response.body.tokens.access as string;
}

const PAUSE_MS = 50;

async function measureApp(
  databaseUrl: string,
  warmPool: number,
  { zygote = true }: { zygote?: boolean } = {},
): Promise<{ samples: number[]; paused: number[]; throughput?: number; errors?: number }> {
  const app = await startAppChild(databaseUrl, {
    EXECUTION_WARM_POOL_SIZE: String(warmPool),
    EXECUTION_ZYGOTE: String(zygote),
    SCHEDULER_ENABLED: 'false',
    SANDBOX_MEMORY_CGROUP: process.env.SANDBOX_MEMORY_CGROUP,
  });
  try {
    const headers = { authorization: `Bearer ${await adminToken(app.url)}` };
    const url = `${app.url}/api/v1/execute`;
    const check = await postJson(url, CODE, headers);
    if (check.status !== 200 || check.body.status !== 'success') throw new Error(`POST /execute: ${check.status} ${JSON.stringify(check.body)}`);
    const runOnce = async () => {
      const response = await postJson(url, CODE, headers);
      if (response.body.status !== 'success') throw new Error(JSON.stringify(response.body));
    };
    const samples = await timeSequential(RUNS, runOnce, 5);
    const paused: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await sleep(PAUSE_MS);
      const start = process.hrtime.bigint();
      await runOnce();
      paused.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    if (warmPool === 0) return { samples, paused };
    console.log(`throughput: ${CLIENTS} clients for ${DURATION} s ...`);
    const load = await runLoad({
      url,
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(CODE),
      connections: CLIENTS,
      durationSeconds: DURATION,
      warmupSeconds: 2,
    });
    return { samples, paused, throughput: load.reqPerSec, errors: load.non2xx + load.errors + load.timeouts };
  } finally {
    await app.stop();
  }
}

async function main(): Promise<void> {
  console.log(`bench:execute — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const config = readAppConfig({});
  const python = config.execution.pythonBinary;
  const layout = readSandboxLayout([python, config.execution.nodeBinary]);
  const sandboxed = bwrapArgs({ layout, tmpfsBytes: config.execution.tmpfsBytes, command: [python, '-c', 'print(1)'] });

  const { serverUrl, source } = await findPostgresServer();
  const database = await createBenchDatabase(serverUrl);
  console.log(`database: ${database.name} on ${source}; ${RUNS} sequential samples each`);

  console.log('(a) bare python3 spawns ...');
  const bare = await timeSequential(RUNS, () => spawnOnce(python, ['-c', 'print(1)']), 5);
  console.log('(b) bwrap sandbox spawns ...');
  const sandbox = await timeSequential(RUNS, () => spawnOnce(config.execution.bwrapBinary, sandboxed), 5);
  console.log('(c) POST /execute, warm pool off ...');
  const cold = await measureApp(database.url, 0);
  console.log('(c) POST /execute, warm pool on ...');
  const warm = await measureApp(database.url, Number(WARM_POOL));
  console.log('not a goal: POST /execute without zygotes, warm pool off ...');
  const spawned = await measureApp(database.url, 0, { zygote: false });

  const row = (name: string, samples: number[]) => [name, ms(percentile(samples, 50)), ms(percentile(samples, 95)), num(percentile(samples, 50) / percentile(bare, 50), 2)];
  printTable('Latency (sequential)', ['what', 'p50', 'p95', 'p50 / bare'], [
    row('(a) bare python3 -c print(1)', bare),
    row('(b) bwrap sandbox + python3', sandbox),
    row('(c) POST /execute, warm pool off', cold.samples),
    row('(c) POST /execute, warm pool on', warm.samples),
    row(`    not a goal: warm pool off, ${PAUSE_MS} ms pauses`, cold.paused),
    row(`    not a goal: warm pool on, ${PAUSE_MS} ms pauses`, warm.paused),
    row('    not a goal: no zygotes, warm pool off', spawned.samples),
  ]);
  printTable('Throughput', ['what', 'runs/s', 'non-2xx or errors'], [[`(d) ${CLIENTS} clients, warm pool on`, num(warm.throughput ?? NaN, 1), String(warm.errors ?? 0)]]);

  const ratio = (samples: number[]) => percentile(samples, 50) / percentile(bare, 50);
  const goals: Goal[] = [
    { name: 'end-to-end p50 with warm pool vs bare spawn', actual: `${num(ratio(warm.samples), 2)}×`, target: '≤ 1.0×', pass: ratio(warm.samples) <= 1.0 },
    { name: 'end-to-end p50 without warm pool vs bare spawn', actual: `${num(ratio(cold.samples), 2)}×`, target: '≤ 2.0×', pass: ratio(cold.samples) <= 2.0 },
    { name: `throughput, ${CLIENTS} clients`, actual: `${num(warm.throughput ?? 0, 1)} runs/s`, target: '≥ 40 runs/s', pass: (warm.throughput ?? 0) >= 40 },
  ];
  printGoals(goals);
}

runBenchmark(main);
