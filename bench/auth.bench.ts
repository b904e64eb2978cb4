import { cpus, loadavg } from 'node:os';
import * as bcrypt from 'bcrypt';
import {
  Goal,
  LoadResult,
  createBenchDatabase,
  findPostgresServer,
  ms,
  num,
  percentile,
  printGoals,
  printTable,
  registerUser,
  runBenchmark,
  runLoad,
  startAppChild,
  startBareFastifyChild,
  timeSequential,
} from './support';

/**
 * `npm run bench:auth`: the cost of authentication.
 *
 * The app (dist/src/main.js) and a bare Fastify hello-world each run in their
 * own child process; autocannon drives them from this process, one after the
 * other, so neither server shares an event loop with the load generator or
 * with the other server.
 *
 *  - GET /api/v1/users/me with a JWT vs GET / on bare Fastify: 64 connections,
 *    10 s each after a warm-up. Goals: ≥ 0.35× the bare req/s, p99 ≤ 25 ms.
 *  - POST /api/v1/auth/login (correct password, so no lockout) one request at a
 *    time, beside bcrypt.compare at the configured rounds measured alone.
 *    Goal: login p95 ≤ compare p95 + 15 ms. A 4-connection run is shown for
 *    information (concurrent compares share the CPU, so it is not a goal).
 *
 * Knobs: BENCH_DURATION (s, default 10), BENCH_WARMUP (s, default 3),
 * BENCH_CONNECTIONS (default 64), BCRYPT_ROUNDS (default 12, passed to the app),
 * BENCH_EMBEDDED=true (embedded PostgreSQL even when another server answers).
 * Always exits 0 when the benchmark ran, whatever the verdicts.
 */

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BCRYPT_ROUNDS ?? 12);
const COMPARES = 20;

const GOAL_RATIO = 0.35;
const GOAL_ME_P99_MS = 25;
const GOAL_LOGIN_OVERHEAD_MS = 15;

function loadRow(name: string, r: LoadResult): string[] {
  return [name, num(r.reqPerSec), ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), String(r.requests), String(r.non2xx + r.errors + r.timeouts)];
}

async function main(): Promise<void> {
  console.log(`bench:auth — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`load: ${CONNECTIONS} connections, ${DURATION} s after ${WARMUP} s warm-up; bcrypt rounds ${ROUNDS}`);

  const { serverUrl, source } = await findPostgresServer();
  const database = await createBenchDatabase(serverUrl);
  console.log(`database: ${database.name} on ${source}`);

  const [bare, app] = await Promise.all([
    startBareFastifyChild(),
    startAppChild(database.url, { BCRYPT_ROUNDS: process.env.BCRYPT_ROUNDS }),
  ]);
  console.log(`bare Fastify: ${bare.url} (pid ${bare.pid}); CodeRunner: ${app.url} (pid ${app.pid})`);

  const user = await registerUser(app.url);
  const meUrl = `${app.url}/api/v1/users/me`;
  const auth = { authorization: `Bearer ${user.token}` };
  const check = await fetch(meUrl, { headers: auth });
  if (check.status !== 200) throw new Error(`GET /users/me answered ${check.status}: ${await check.text()}`);

  // ---- throughput and latency: bare Fastify, then /users/me
  console.log('\nrunning bare Fastify GET / ...');
  const bareResult = await runLoad({ url: `${bare.url}/`, connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP });
  console.log('running GET /api/v1/users/me ...');
  const meResult = await runLoad({ url: meUrl, headers: auth, connections: CONNECTIONS, durationSeconds: DURATION, warmupSeconds: WARMUP });
  const ratio = meResult.reqPerSec / bareResult.reqPerSec;

  // ---- one bcrypt.compare, alone, at the configured rounds
  console.log(`timing ${COMPARES} bcrypt.compare at ${ROUNDS} rounds ...`);
  const hash = await bcrypt.hash(user.password, ROUNDS);
  const compares = await timeSequential(COMPARES, () => bcrypt.compare(user.password, hash), 2);
  const compareP50 = percentile(compares, 50);
  const compareP95 = percentile(compares, 95);

  // ---- login, one at a time, then 4 at a time (information only)
  const loginBody = JSON.stringify({ username: user.username, password: user.password });
  const loginOptions = {
    url: `${app.url}/api/v1/auth/login`,
    method: 'POST' as const,
    headers: { 'content-type': 'application/json' },
    body: loginBody,
    durationSeconds: DURATION,
  };
  console.log('running POST /api/v1/auth/login at 1 connection ...');
  const login1 = await runLoad({ ...loginOptions, connections: 1, warmupSeconds: 2 });
  console.log('running POST /api/v1/auth/login at 4 connections ...');
  const login4 = await runLoad({ ...loginOptions, connections: 4 });

  // ---- report
  printTable(
    'HTTP (autocannon)',
    ['target', 'req/s', 'p50', 'p95', 'p99', 'max', 'requests', 'non-2xx/err'],
    [
      loadRow(`bare Fastify GET / @${CONNECTIONS}`, bareResult),
      loadRow(`GET /api/v1/users/me (JWT) @${CONNECTIONS}`, meResult),
      loadRow('POST /api/v1/auth/login @1', login1),
      loadRow('POST /api/v1/auth/login @4 (info)', login4),
    ],
  );
  console.log(`\n/users/me ÷ bare Fastify req/s: ${ratio.toFixed(3)}×`);
  printTable(
    `bcrypt.compare, ${ROUNDS} rounds, ${COMPARES} in a row`,
    ['', 'p50', 'p95', 'min', 'max'],
    [['bcrypt.compare', ms(compareP50), ms(compareP95), ms(Math.min(...compares)), ms(Math.max(...compares))]],
  );
  console.log(`login p95 − compare p95: ${ms(login1.p95 - compareP95)}; login p50 − compare p50: ${ms(login1.p50 - compareP50)}`);

  const clean = (r: LoadResult) => r.non2xx + r.errors + r.timeouts === 0 && r.requests > 0;
  const goals: Goal[] = [
    {
      name: '/users/me req/s vs bare Fastify',
      actual: `${ratio.toFixed(3)}× (${num(meResult.reqPerSec)} / ${num(bareResult.reqPerSec)})`,
      target: `≥ ${GOAL_RATIO}×`,
      pass: ratio >= GOAL_RATIO && clean(meResult) && clean(bareResult),
    },
    {
      name: '/users/me p99',
      actual: ms(meResult.p99),
      target: `≤ ${GOAL_ME_P99_MS} ms`,
      pass: meResult.p99 <= GOAL_ME_P99_MS && clean(meResult),
    },
    {
      name: 'login p95 vs one bcrypt.compare',
      actual: `${ms(login1.p95)} (compare p95 ${ms(compareP95)})`,
      target: `≤ ${ms(compareP95 + GOAL_LOGIN_OVERHEAD_MS)}`,
      pass: login1.p95 <= compareP95 + GOAL_LOGIN_OVERHEAD_MS && clean(login1),
    },
  ];
  for (const [name, r] of [['bare', bareResult], ['/users/me', meResult], ['login @1', login1], ['login @4', login4]] as const) {
    if (!clean(r)) console.log(`warning: ${name} had ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
  }
  printGoals(goals);
  console.log(`\nload average now ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
}

runBenchmark(main);
