import 'reflect-metadata';
import { ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EventBus } from '@nestjs/cqrs';
import { decode } from 'jsonwebtoken';
import WebSocket, { WebSocketServer } from 'ws';
import { RunningApp, startApp } from '../src/app.factory';
import { notificationsChannelOf, RealtimeEvent } from '../src/common/events/realtime-event';
import { AppLogger } from '../src/common/logging/app-logger';
import { RealtimeGateway } from '../src/modules/realtime/realtime-gateway';
import {
  BENCH_ADMIN_PASSWORD,
  BENCH_JWT_SECRET,
  ChildServer,
  Goal,
  createBenchDatabase,
  findPostgresServer,
  ms,
  num,
  onCleanup,
  percentile,
  printGoals,
  printTable,
  processCpuSeconds,
  processRssBytes,
  registerUser,
  runBenchmark,
  sleep,
  startAppChild,
  tempDir,
} from './support';

/**
 * `npm run bench:realtime`: the WebSocket gateway (/api/v1/ws) — fan-out of
 * one channel to many sockets, publish → receive latency across replicas, and
 * the memory an idle socket costs — in one process run, so the ratio compares
 * like with like on a noisy machine.
 *
 * Channel messages can only be published from inside the app (a RealtimeEvent
 * on the CQRS EventBus; no HTTP endpoint publishes arbitrary messages), so for
 * (a) and (b) the app runs IN this process (startApp from src/app.factory, on
 * a fresh bench database, production settings, logging silent, the per-user
 * socket cap raised) and the bench publishes with its EventBus, exactly as a
 * context of the app would. The client sockets run in a CHILD process (this
 * file again with --clients, driven over IPC), so they never share an event
 * loop with the server they read: it opens them (`?token=<jwt>` → `authenticated`,
 * then `subscribe notifications` → `subscribed`), counts what they receive and
 * answers when everything expected has arrived. All sockets belong to one user
 * registered through the API, so they all read one channel: that user's
 * notifications (`notifications:<user id>` as published).
 *
 * Every channel message is the same kind of payload, a notification of about
 * 200 bytes of JSON (a fresh id per message, `data.seq`, `data.sent_at`),
 * framed as the gateway frames it: `{"type":"notification","channel":
 * "notifications","payload":…}`.
 *
 *  (a) Fan-out: BENCH_SOCKETS (1 000) subscribed sockets, BENCH_MESSAGES (200)
 *      messages per round, published in bursts of BENCH_BURST (10) per
 *      event-loop turn (the relay gathers a turn's events into one cluster
 *      message, and 10 of these stay under NOTIFY's 8 000-byte limit, so the
 *      burst takes the default LISTEN/NOTIFY path, not the large-message table).
 *      Measured: socket deliveries per second, from the first publish to the
 *      child's report that every socket got every message (all of them
 *      counted, the first and last of each socket checked for their seq).
 *      Baseline: a bare `ws` WebSocketServer (perMessageDeflate off, like the
 *      gateway) in this same process, on its own port, to which the same child
 *      opens the same number of sockets; the same payloads, the same loop (a
 *      burst per event-loop turn), each message serialized once into the same
 *      frame string and sent to every open socket (`ws.send(string)`, as the
 *      gateway's hub does) — the least a broadcast can do with that library,
 *      with none of the app's work (EventBus, relay, NOTIFY to other replicas,
 *      the slow-consumer check). Fair because both servers run in the same
 *      process, one at a time, against the same client process and payloads;
 *      what differs is exactly the app's publish path. A warm-up round each,
 *      then BENCH_ROUNDS (5) rounds each, interleaved (order alternated);
 *      medians are compared. Goal: ≥ 0.5× the baseline and ≥ 50 000 msg/s.
 *      Shown per round: the time the publishing loop took (the app delivers
 *      to local sockets synchronously in the relay's flush, so its loop is most
 *      of the run), and the CPU of this process (the server) and of the client
 *      child as a share of one core (a client near 100 % would be the
 *      bottleneck; it counts frames without parsing them), and the server's CPU
 *      time per delivery. On two cores the server and the client take one
 *      each, so either may set the pace, and on a shared host both sometimes
 *      get far less than a core: the ratio of CPU per delivery (bare ÷ app,
 *      medians) is printed as the figure neither affects, and the app's
 *      deliveries per second of its own CPU next to the wall-clock rate. The
 *      publisher is not the limit: 200 EventBus publishes (or 200
 *      serializations, for the baseline) per round against 200 000 sends;
 *      the publishing loop ends when the last burst is sent, the round when
 *      the child has it all. The gateway's own counters (GET
 *      /admin/realtime's messages_out, dropped_consumers) are checked
 *      against the deliveries.
 *  (b) Latency across replicas: a second app in this process on the same
 *      database (the default PostgreSQL LISTEN/NOTIFY transport; replica A
 *      publishes, NOTIFY carries it, replica B's listener delivers it).
 *      BENCH_LATENCY_SOCKETS (10) sockets subscribed on B and as many on A (for
 *      reference: the same replica, no NOTIFY in between); BENCH_LATENCY_MESSAGES
 *      (200) messages published on A, one every BENCH_LATENCY_INTERVAL_MS (10)
 *      ms, after 20 not measured. A message carries the time it was published;
 *      the child subtracts it from the time it read it. The clock is
 *      `performance.timeOrigin + performance.now()` in both processes: the
 *      system clock at each process start plus a monotonic clock, so the two
 *      agree to within the clock's slew since then (the offset is estimated
 *      over IPC round trips and printed as a check, not subtracted). Two apps
 *      in one process share one event loop, so B's work competes with A's:
 *      if anything that makes the figure worse than two real replicas.
 *      Goal: p99 on B ≤ 50 ms (p50 shown), every message received. Then, for
 *      reference (no goal), the same number published as fast as the
 *      publisher goes, one per event-loop turn (so each is a NOTIFY of its
 *      own): latency under a burst, and whether each socket reads the
 *      messages in publishing order (every message's seq is checked against
 *      the one before on its socket).
 *  (c) Memory per idle connection: the app in a child process (startAppChild,
 *      dist/src/main.js, NODE_ENV=production) started with --expose-gc and a
 *      preload that, on SIGUSR2, runs a full GC and prints
 *      process.memoryUsage(). The client child opens BENCH_IDLE_SOCKETS (2 000)
 *      authenticated, subscribed sockets (after 200 opened and closed as a
 *      warm-up), in two halves; after each step (none, half, all, all closed
 *      again) they sit idle for 2 s, the app is GC'd (twice) and its VmRSS read
 *      (/proc/<pid>/status, median of 3 readings). Per socket: the RSS growth
 *      from none to all ÷ the sockets. RSS is what the machine pays
 *      (V8 heap, buffers outside it, the socket handles) but it can grow less
 *      than the live objects when they fit in heap pages committed already;
 *      heapUsed + external after GC counts the live JS objects exactly but not
 *      native memory. The goal takes the larger of the two. A bare `ws`
 *      server in a child of its own, measured the same way with plain open
 *      sockets, is shown for reference (what the library itself costs).
 *      Goal: ≤ 20 KB per socket.
 *
 * Knobs: BENCH_SOCKETS, BENCH_MESSAGES, BENCH_BURST, BENCH_ROUNDS,
 * BENCH_LATENCY_SOCKETS, BENCH_LATENCY_MESSAGES, BENCH_LATENCY_INTERVAL_MS,
 * BENCH_IDLE_SOCKETS, BENCH_PARTS (default abc), BENCH_EMBEDDED=true. Exits 0
 * when the benchmark ran, whatever the verdicts.
 */

const SOCKETS = Number(process.env.BENCH_SOCKETS ?? 1000);
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 200);
const BURST = Number(process.env.BENCH_BURST ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LATENCY_SOCKETS = Number(process.env.BENCH_LATENCY_SOCKETS ?? 10);
const LATENCY_MESSAGES = Number(process.env.BENCH_LATENCY_MESSAGES ?? 200);
const LATENCY_INTERVAL_MS = Number(process.env.BENCH_LATENCY_INTERVAL_MS ?? 10);
const LATENCY_WARMUP = 20;
const IDLE_SOCKETS = Number(process.env.BENCH_IDLE_SOCKETS ?? 2000);
const IDLE_WARMUP = 200;
const PARTS = (process.env.BENCH_PARTS ?? 'abc').toLowerCase();

const GOAL_FANOUT_RATIO = 0.5;
const GOAL_FANOUT_RATE = 50_000;
const GOAL_LATENCY_P99_MS = 50;
const GOAL_IDLE_BYTES = 20 * 1024;

/** Sockets opened at once while setting up (the rest wait), and how long one may take. */
const OPEN_CONCURRENCY = 50;
const OPEN_TIMEOUT_MS = 30_000;
/** A fan-out round that has not delivered everything by then is reported incomplete. */
const ROUND_TIMEOUT_MS = 120_000;
const CLIENT_CHANNEL = 'notifications';
const KB = 1024;
const MB = 1024 * 1024;

/** Milliseconds on a clock both processes share: the wall clock at process start plus a monotonic clock. */
const clock = () => performance.timeOrigin + performance.now();

/** A notification-like payload of about 200 bytes of JSON. */
function payloadOf(seq: number, sentAt: number) {
  return {
    id: randomUUID(),
    type: 'follow',
    title: 'bench_sender followed you',
    body: 'Open their profile to follow them back.',
    data: { seq, sent_at: sentAt },
    read_at: null,
    created_at: '2026-12-02T10:00:00.000Z',
  };
}

// ---------------------------------------------------------------- the client sockets, in a child process

type ToClients =
  | { id: number; cmd: 'open'; group: string; url: string; count: number; subscribe: string | null }
  | { id: number; cmd: 'count'; groups: string[]; perSocket: number; firstSeq: number; lastSeq: number }
  | { id: number; cmd: 'latency'; groups: string[]; perSocket: number }
  | { id: number; cmd: 'collect' }
  | { id: number; cmd: 'close'; group: string }
  | { id: number; cmd: 'clock' };

interface OpenReply { id: number; opened: number; failed: number; firstError?: string }
interface ClockReply { id: number; now: number }
/** What a measurement found: deliveries, anything wrong, and for latency the samples (ms) per group. */
interface MeasureResult {
  expected: number;
  received: number;
  /** Messages past the expected count of their socket. */
  extra: number;
  /** (latency) Messages whose seq was not above the one before on the same socket, per group. */
  outOfOrder: Record<string, number>;
  /** Sockets of the measured groups closed during the measurement, by close code. */
  closed: Record<string, number>;
  problems: string[];
  samples: Record<string, number[]>;
}
type FromClients = { id: number } | { event: 'complete'; result: MeasureResult };

interface Group {
  sockets: WebSocket[];
  counts: Uint32Array;
  /** The seq each socket read last (latency runs). */
  lastSeq: Float64Array;
}

/** The child's side: sockets in named groups, measured on command. */
function serveClients(): void {
  const groups = new Map<string, Group>();
  let current: (MeasureResult & { kind: 'count' | 'latency'; groups: Set<string>; perSocket: number; firstSeq: number; lastSeq: number }) | null = null;
  const reply = (message: FromClients) => process.send!(message);

  const problem = (text: string) => {
    if (current && current.problems.length < 5) current.problems.push(text);
  };
  const finish = (): MeasureResult => {
    const { expected, received, extra, outOfOrder, closed, problems, samples } = current!;
    current = null;
    return { expected, received, extra, outOfOrder, closed, problems, samples };
  };

  const onMessage = (name: string, group: Group, index: number, data: WebSocket.RawData) => {
    const m = current;
    if (!m || !m.groups.has(name)) return;
    m.received++;
    if (m.kind === 'count') {
      const n = ++group.counts[index];
      if (n > m.perSocket) m.extra++;
      // The first and the last message of each socket are read; the rest only counted (cheap, like the baseline's).
      else if (n === 1 || n === m.perSocket) {
        const message = JSON.parse(data.toString());
        const want = n === 1 ? m.firstSeq : m.lastSeq;
        if (message.type !== 'notification' || message.channel !== CLIENT_CHANNEL || message.payload?.data?.seq !== want) {
          problem(`socket ${index} of ${name}: message ${n} is ${data.toString().slice(0, 160)}, expected seq ${want}`);
        }
      }
    } else {
      const now = clock();
      const message = JSON.parse(data.toString());
      m.samples[name].push(now - message.payload.data.sent_at);
      if (message.payload.data.seq <= group.lastSeq[index]) m.outOfOrder[name] = (m.outOfOrder[name] ?? 0) + 1;
      group.lastSeq[index] = message.payload.data.seq;
    }
    if (m.received === m.expected) reply({ event: 'complete', result: finish() });
  };

  /** One socket, open (and, for the app, authenticated and subscribed). */
  const openOne = (url: string, subscribe: string | null): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      // No UTF-8 check of what arrives: the client's cost per frame is kept small (the same for both servers).
      const ws = new WebSocket(url, { perMessageDeflate: false, skipUTF8Validation: true });
      const timer = setTimeout(() => fail(`not ready within ${OPEN_TIMEOUT_MS} ms`), OPEN_TIMEOUT_MS);
      const done = () => {
        clearTimeout(timer);
        ws.removeAllListeners('message');
        ws.removeAllListeners('close');
        ws.removeAllListeners('unexpected-response');
        resolve(ws);
      };
      const fail = (why: string) => {
        clearTimeout(timer);
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        ws.terminate();
        reject(new Error(why));
      };
      ws.on('error', (error) => fail(error.message));
      ws.on('unexpected-response', (_request, response) => fail(`HTTP ${response.statusCode}`));
      ws.on('close', (code, reason) => fail(`closed ${code} ${reason.toString()}`));
      ws.on('open', () => {
        if (subscribe === null) done();
      });
      ws.on('message', (data) => {
        const message = JSON.parse(data.toString());
        if (message.type === 'authenticated') ws.send(JSON.stringify({ type: 'subscribe', channel: subscribe }));
        else if (message.type === 'subscribed') done();
        else fail(`unexpected ${data.toString().slice(0, 200)}`);
      });
    });

  const open = async (request: Extract<ToClients, { cmd: 'open' }>): Promise<OpenReply> => {
    const group = groups.get(request.group) ?? { sockets: [], counts: new Uint32Array(0), lastSeq: new Float64Array(0) };
    groups.set(request.group, group);
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const worker = async () => {
      while (next < request.count) {
        next++;
        try {
          const ws = await openOne(request.url, request.subscribe);
          const index = group.sockets.push(ws) - 1;
          ws.on('message', (data) => onMessage(request.group, group, index, data));
          ws.on('close', (code) => {
            if (current?.groups.has(request.group)) current.closed[code] = (current.closed[code] ?? 0) + 1;
          });
        } catch (error) {
          failed++;
          firstError ??= (error as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, worker));
    group.counts = new Uint32Array(group.sockets.length);
    group.lastSeq = new Float64Array(group.sockets.length).fill(-1);
    return { id: request.id, opened: request.count - failed, failed, firstError };
  };

  const close = async (name: string): Promise<void> => {
    const group = groups.get(name);
    groups.delete(name);
    if (!group) return;
    await Promise.all(
      group.sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => ws.terminate(), 5000);
            ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            ws.close();
          }),
      ),
    );
  };

  const arm = (kind: 'count' | 'latency', names: string[], perSocket: number, firstSeq = 0, lastSeq = 0) => {
    let sockets = 0;
    const samples: Record<string, number[]> = {};
    for (const name of names) {
      const group = groups.get(name)!;
      group.counts.fill(0);
      sockets += group.sockets.length;
      samples[name] = [];
    }
    current = { kind, groups: new Set(names), perSocket, firstSeq, lastSeq, expected: sockets * perSocket, received: 0, extra: 0, outOfOrder: {}, closed: {}, problems: [], samples };
  };

  process.on('message', (request: ToClients) => {
    void (async () => {
      switch (request.cmd) {
        case 'open':
          return reply(await open(request));
        case 'count':
          arm('count', request.groups, request.perSocket, request.firstSeq, request.lastSeq);
          return reply({ id: request.id });
        case 'latency':
          arm('latency', request.groups, request.perSocket);
          return reply({ id: request.id });
        case 'collect':
          return reply({ id: request.id, ...(current ? finish() : {}) } as FromClients);
        case 'close':
          await close(request.group);
          return reply({ id: request.id });
        case 'clock':
          return reply({ id: request.id, now: clock() } as ClockReply);
      }
    })();
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ id: 0 });
}

/** This process's handle on the client child. */
class Clients {
  private nextId = 1;
  private readonly waiting = new Map<number, (message: any) => void>();
  private completed: Promise<MeasureResult> = new Promise(() => undefined);
  private resolveCompleted: (result: MeasureResult) => void = () => undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: FromClients) => {
      if ('event' in message) return this.resolveCompleted(message.result);
      const resolve = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      resolve?.(message);
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  static async start(): Promise<Clients> {
    const child = fork(__filename, ['--clients'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
    onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    });
    await new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`the client child exited with ${code} before it was ready`)));
    });
    return new Clients(child);
  }

  request<T>(message: Record<string, unknown> & { cmd: ToClients['cmd'] }): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve) => {
      this.waiting.set(id, resolve);
      this.child.send({ ...message, id });
    });
  }

  /** Opens `count` sockets to `url` in `group`; throws unless every one is ready. */
  async open(group: string, url: string, count: number, subscribe: string | null): Promise<void> {
    const reply = await this.request<OpenReply>({ cmd: 'open', group, url, count, subscribe });
    if (reply.failed) throw new Error(`${reply.failed} of ${count} sockets to ${url} failed, e.g. ${reply.firstError}`);
  }

  close(group: string): Promise<void> {
    return this.request({ cmd: 'close', group });
  }

  /** Starts a measurement; the promise resolves when everything expected arrived (or with what came, after timeoutMs). */
  async arm(message: Record<string, unknown> & { cmd: 'count' | 'latency' }): Promise<(timeoutMs: number) => Promise<MeasureResult>> {
    const completed = new Promise<MeasureResult>((resolve) => (this.resolveCompleted = resolve));
    this.completed = completed;
    await this.request(message);
    return async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
      const result = await Promise.race([completed, late]);
      clearTimeout(timer);
      if (result) return result;
      const collected = await this.request<Partial<MeasureResult>>({ cmd: 'collect' });
      // Nothing to collect: it completed just as the time ran out.
      return collected.expected === undefined ? completed : (collected as MeasureResult);
    };
  }

  /** The child's clock minus this one's (ms), from the IPC round trip with the shortest time, and that time. */
  async clockOffset(): Promise<{ offset: number; roundTrip: number }> {
    let best = { offset: NaN, roundTrip: Infinity };
    for (let i = 0; i < 30; i++) {
      const sent = clock();
      const { now } = await this.request<ClockReply>({ cmd: 'clock' });
      const back = clock();
      if (back - sent < best.roundTrip) best = { offset: now - (sent + back) / 2, roundTrip: back - sent };
    }
    return best;
  }
}

// ---------------------------------------------------------------- servers

const appEnv = (databaseUrl: string): Record<string, string> => ({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  PORT: '0',
  DATABASE_URL: databaseUrl,
  DATA_DIR: tempDir('coderunner-bench-data-'),
  JWT_SECRET: BENCH_JWT_SECRET,
  ENCRYPTION_KEY: 'bench-encryption-key-0123456789',
  ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
  LOG_LEVEL: 'silent',
  RATE_LIMIT_ENABLED: 'false',
  SCHEDULER_ENABLED: 'false',
  REALTIME_MAX_CONNECTIONS_PER_USER: '100000',
});

/** The app in this process (its EventBus is the publisher), stopped at cleanup. */
async function startInProcessApp(databaseUrl: string): Promise<RunningApp> {
  const running = await startApp(appEnv(databaseUrl), new AppLogger('silent'));
  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= running.stop());
  onCleanup(stop);
  return { ...running, stop };
}

/** A bare `ws` server in this process: no auth, no channels; broadcast() sends a frame to every open socket. */
async function startBareWs(): Promise<{ url: string; broadcast(frame: string): void; count(): number }> {
  const http = createServer((_request, response) => response.writeHead(404).end());
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  onCleanup(
    () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        http.close(() => resolve());
      }),
  );
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    broadcast(frame) {
      for (const ws of wss.clients) if (ws.readyState === WebSocket.OPEN) ws.send(frame);
    },
    count: () => wss.clients.size,
  };
}

/** A frame as the gateway's hub makes it for a client that subscribed to `notifications`. */
const frameOf = (payload: unknown) => `{"type":"notification","channel":${JSON.stringify(CLIENT_CHANNEL)},"payload":${JSON.stringify(payload)}}`;

const wsUrl = (httpUrl: string, token: string) => `${httpUrl.replace(/^http/, 'ws')}/api/v1/ws?token=${encodeURIComponent(token)}`;

async function userOf(appUrl: string): Promise<{ id: string; token: string }> {
  const user = await registerUser(appUrl);
  const claims = decode(user.token) as { sub?: string } | null;
  if (!claims?.sub) throw new Error('the access token has no sub');
  return { id: claims.sub, token: user.token };
}

// ---------------------------------------------------------------- (a) fan-out

interface Side {
  name: 'app' | 'bare ws';
  group: string;
  publish(seq: number): void;
  /** Messages the server says it sent, and slow consumers it dropped (the gateway's counters; none for the bare server). */
  counters?: () => { out: number; dropped: number };
}

interface RoundResult {
  side: Side['name'];
  seconds: number;
  publishSeconds: number;
  deliveries: number;
  rate: number;
  complete: boolean;
  serverCpu: number;
  clientCpu: number;
  result: MeasureResult;
  countersOut?: number;
  countersDropped?: number;
}

let nextSeq = 0;

async function fanOutRound(side: Side, clients: Clients): Promise<RoundResult> {
  const firstSeq = nextSeq;
  nextSeq += MESSAGES;
  const waitDone = await clients.arm({ cmd: 'count', groups: [side.group], perSocket: MESSAGES, firstSeq, lastSeq: firstSeq + MESSAGES - 1 });
  const counters0 = side.counters?.();
  const serverCpu0 = processCpuSeconds(process.pid);
  const clientCpu0 = processCpuSeconds(clients.pid);
  const started = clock();
  for (let i = 0; i < MESSAGES; i += BURST) {
    for (let seq = firstSeq + i; seq < firstSeq + Math.min(MESSAGES, i + BURST); seq++) side.publish(seq);
    await nextTurn();
  }
  const published = clock();
  const result = await waitDone(ROUND_TIMEOUT_MS);
  const ended = clock();
  const seconds = (ended - started) / 1000;
  const counters1 = side.counters?.();
  return {
    side: side.name,
    seconds,
    publishSeconds: (published - started) / 1000,
    deliveries: result.received,
    rate: result.received / seconds,
    complete: result.received === result.expected && result.extra === 0 && result.problems.length === 0,
    serverCpu: processCpuSeconds(process.pid) - serverCpu0,
    clientCpu: processCpuSeconds(clients.pid) - clientCpu0,
    result,
    countersOut: counters0 && counters1 ? counters1.out - counters0.out : undefined,
    countersDropped: counters0 && counters1 ? counters1.dropped - counters0.dropped : undefined,
  };
}

async function fanOut(databaseUrl: string, clients: Clients, goals: Goal[]): Promise<void> {
  const app = await startInProcessApp(databaseUrl);
  const user = await userOf(app.url);
  const bus = app.app.get(EventBus);
  const gateway = app.app.get(RealtimeGateway);
  const channel = notificationsChannelOf(user.id);
  const bare = await startBareWs();

  const appSide: Side = {
    name: 'app',
    group: 'fan-app',
    publish: (seq) => bus.publish(new RealtimeEvent(channel, 'notification', payloadOf(seq, clock()))),
    counters: () => {
      const stats = gateway.stats();
      return { out: stats.messages_out, dropped: stats.dropped_consumers };
    },
  };
  const bareSide: Side = { name: 'bare ws', group: 'fan-bare', publish: (seq) => bare.broadcast(frameOf(payloadOf(seq, clock()))) };

  console.log(`(a) opening ${SOCKETS} subscribed sockets to the app and ${SOCKETS} to the bare ws server ...`);
  let t = Date.now();
  await clients.open(appSide.group, wsUrl(app.url, user.token), SOCKETS, CLIENT_CHANNEL);
  const appOpenSeconds = (Date.now() - t) / 1000;
  t = Date.now();
  await clients.open(bareSide.group, bare.url, SOCKETS, null);
  console.log(
    `    ready: app ${gateway.stats().connections} sockets in ${appOpenSeconds.toFixed(1)} s (auth + subscribe), ` +
      `bare ${bare.count()} in ${((Date.now() - t) / 1000).toFixed(1)} s; payload ${Buffer.byteLength(JSON.stringify(payloadOf(0, clock())))} bytes, ` +
      `frame ${Buffer.byteLength(frameOf(payloadOf(0, clock())))} bytes`,
  );

  console.log(`(a) ${SOCKETS} sockets × ${MESSAGES} messages (bursts of ${BURST}): a warm-up round each, then ${ROUNDS} rounds each, interleaved ...`);
  await fanOutRound(bareSide, clients);
  await fanOutRound(appSide, clients);
  const rounds: RoundResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 === 0 ? [bareSide, appSide] : [appSide, bareSide]) rounds.push(await fanOutRound(side, clients));
  }

  const pct = (cpu: number, seconds: number) => (Number.isFinite(cpu) ? `${num((100 * cpu) / seconds)} %` : 'n/a');
  printTable(
    `(a) Fan-out of one channel to ${SOCKETS} sockets, ${MESSAGES} messages a round (CPU: share of one core during the round)`,
    ['round', 'seconds', 'publish loop', 'deliveries', 'msg/s', 'complete', 'server CPU', 'client CPU', 'server CPU/delivery', 'app counters'],
    rounds.map((r, i) => [
      `${Math.floor(i / 2) + 1} ${r.side}`, num(r.seconds, 2), `${num(r.publishSeconds, 2)} s`, `${r.deliveries}/${r.result.expected}`, num(r.rate),
      r.complete ? 'yes' : 'NO', pct(r.serverCpu, r.seconds), pct(r.clientCpu, r.seconds), `${num((r.serverCpu * 1e6) / r.deliveries, 2)} µs`,
      r.countersOut !== undefined ? `out ${r.countersOut}, dropped ${r.countersDropped}` : '',
    ]),
  );
  for (const r of rounds.filter((round) => !round.complete || Object.keys(round.result.closed).length)) {
    console.log(
      `warning: a ${r.side} round: ${r.result.received}/${r.result.expected} delivered, ${r.result.extra} extra, ` +
        `closed ${JSON.stringify(r.result.closed)}; ${r.result.problems.join('; ')}`,
    );
  }
  const median = (side: Side['name'], of: (r: RoundResult) => number) => percentile(rounds.filter((r) => r.side === side).map(of), 50);
  const appRate = median('app', (r) => r.rate);
  const bareRate = median('bare ws', (r) => r.rate);
  const ratio = appRate / bareRate;
  const cpuPerDelivery = (r: RoundResult) => r.serverCpu / r.deliveries;
  const cpuRatio = median('bare ws', cpuPerDelivery) / median('app', cpuPerDelivery);
  const busyClient = rounds.filter((r) => r.clientCpu / r.seconds >= 0.9).length;
  const allComplete = rounds.every((r) => r.complete) && rounds.every((r) => !r.countersDropped);
  console.log(`\napp ÷ bare ws msg/s (medians): ${ratio.toFixed(3)}× (${num(appRate)} / ${num(bareRate)})`);
  console.log(
    `server CPU per delivery, bare ws ÷ app (medians; the ratio if the server alone were the limit): ${cpuRatio.toFixed(3)}× ` +
      `(${num(median('bare ws', cpuPerDelivery) * 1e6, 2)} µs / ${num(median('app', cpuPerDelivery) * 1e6, 2)} µs)`,
  );
  const appPerCpuSecond = 1 / median('app', cpuPerDelivery);
  console.log(`the app's deliveries per second of its own CPU (what one full core would carry): ${num(appPerCpuSecond)}`);
  const starved = rounds.filter((r) => r.serverCpu / r.seconds < 0.8).length;
  if (starved) console.log(`note: the server got less than 80 % of a core in ${starved} of ${rounds.length} rounds with work always waiting: other load on this machine took it`);
  if (busyClient) console.log(`note: the client child used ≥ 90 % of a core in ${busyClient} of ${rounds.length} rounds: there it may have set the pace, which narrows the msg/s ratio; the CPU ratio above does not depend on it`);
  goals.push({
    name: `(a) fan-out msg/s vs bare ws, ${SOCKETS} sockets (all delivered)`,
    actual: `${ratio.toFixed(3)}×`,
    target: `≥ ${GOAL_FANOUT_RATIO}×`,
    pass: ratio >= GOAL_FANOUT_RATIO && allComplete,
  });
  goals.push({ name: '(a) fan-out deliveries per second (median)', actual: `${num(appRate)} (${num(appPerCpuSecond)}/CPU-s)`, target: `≥ ${num(GOAL_FANOUT_RATE)}`, pass: appRate >= GOAL_FANOUT_RATE && allComplete });

  await clients.close(appSide.group);
  await clients.close(bareSide.group);
  await app.stop();
}

// ---------------------------------------------------------------- (b) latency across replicas

async function latency(databaseUrl: string, clients: Clients, goals: Goal[]): Promise<void> {
  const a = await startInProcessApp(databaseUrl);
  const b = await startInProcessApp(databaseUrl);
  const user = await userOf(a.url);
  const bus = a.app.get(EventBus);
  const channel = notificationsChannelOf(user.id);
  await clients.open('lat-B', wsUrl(b.url, user.token), LATENCY_SOCKETS, CLIENT_CHANNEL);
  await clients.open('lat-A', wsUrl(a.url, user.token), LATENCY_SOCKETS, CLIENT_CHANNEL);
  const { offset, roundTrip } = await clients.clockOffset();
  console.log(
    `(b) ${LATENCY_SOCKETS} sockets on replica B and ${LATENCY_SOCKETS} on A; ${LATENCY_MESSAGES} messages published on A, ` +
      `one every ${LATENCY_INTERVAL_MS} ms (after ${LATENCY_WARMUP} not measured); ` +
      `client clock − this clock ≈ ${offset.toFixed(3)} ms (± ${(roundTrip / 2).toFixed(3)} ms) ...`,
  );

  /** `count` messages on A, each after `pause` (a timer of LATENCY_INTERVAL_MS, or the next event-loop turn). */
  const run = async (count: number, pause: () => Promise<unknown>) => {
    const waitDone = await clients.arm({ cmd: 'latency', groups: ['lat-B', 'lat-A'], perSocket: count });
    for (let i = 0; i < count; i++) {
      bus.publish(new RealtimeEvent(channel, 'notification', payloadOf(nextSeq++, clock())));
      await pause();
    }
    return waitDone(10_000);
  };
  const paced = () => sleep(LATENCY_INTERVAL_MS);
  await run(LATENCY_WARMUP, paced);
  const result = await run(LATENCY_MESSAGES, paced);
  // For reference (no goal): the same messages as fast as the publisher goes, one per event-loop turn, so each is a NOTIFY of its own.
  const burst = await run(LATENCY_MESSAGES, () => nextTurn());
  const row = (name: string, r: MeasureResult, group: string) => [
    name, `${r.samples[group].length}/${LATENCY_SOCKETS * LATENCY_MESSAGES}`, ms(percentile(r.samples[group], 50)), ms(percentile(r.samples[group], 95)),
    ms(percentile(r.samples[group], 99)), ms(r.samples[group].reduce((max, v) => (v > max ? v : max), -Infinity)), String(r.outOfOrder[group] ?? 0),
  ];
  printTable(
    `(b) Publish → receive latency (${LATENCY_MESSAGES} messages × ${LATENCY_SOCKETS} sockets each; out of order: messages not newer than the one before on their socket)`,
    ['run, where the socket is', 'received', 'p50', 'p95', 'p99', 'max', 'out of order'],
    [
      row(`every ${LATENCY_INTERVAL_MS} ms, replica B (via NOTIFY)`, result, 'lat-B'),
      row(`every ${LATENCY_INTERVAL_MS} ms, replica A (publishing)`, result, 'lat-A'),
      row('one per turn (burst), replica B', burst, 'lat-B'),
      row('one per turn (burst), replica A', burst, 'lat-A'),
    ],
  );
  for (const r of [result, burst]) {
    if (r.problems.length || Object.keys(r.closed).length) console.log(`warning: closed ${JSON.stringify(r.closed)} ${r.problems.join('; ')}`);
  }
  for (const [group, count] of Object.entries({ ...result.outOfOrder, ...burst.outOfOrder })) {
    if (count) console.log(`warning: messages arrived out of publishing order on ${group} (${JSON.stringify(result.outOfOrder)} paced, ${JSON.stringify(burst.outOfOrder)} burst)`);
  }
  const p99 = percentile(result.samples['lat-B'], 99);
  const allReceived = result.samples['lat-B'].length === LATENCY_SOCKETS * LATENCY_MESSAGES;
  console.log(`\nreplica B: p50 ${ms(percentile(result.samples['lat-B'], 50))}, p99 ${ms(p99)}`);
  goals.push({
    name: `(b) publish on A → receive on B, p99${allReceived ? '' : ' (MESSAGES MISSING)'}`,
    actual: `${ms(p99)} (p50 ${ms(percentile(result.samples['lat-B'], 50))})`,
    target: `≤ ${GOAL_LATENCY_P99_MS} ms`,
    pass: p99 <= GOAL_LATENCY_P99_MS && allReceived,
  });

  await clients.close('lat-B');
  await clients.close('lat-A');
  await b.stop();
  await a.stop();
}

// ---------------------------------------------------------------- (c) memory per idle socket

interface MemoryReading {
  rss: number;
  /** heapUsed + external after the GC. */
  js: number;
}

/** A process measured for (c): open sockets to `url`, and a GC followed by a reading. */
interface MemoryTarget {
  name: string;
  url: string;
  subscribe: string | null;
  pid: number;
  /** Runs a full GC in the process; resolves with its heapUsed + external afterwards. */
  gc(): Promise<number>;
}

async function readMemory(target: MemoryTarget): Promise<MemoryReading> {
  await sleep(2000); // idle: whatever the opening left pending settles
  // Twice: the first collection's freed pages are not always given back before the second.
  await target.gc();
  await sleep(500);
  const js = await target.gc();
  await sleep(500);
  const readings: number[] = [];
  for (let i = 0; i < 3; i++) {
    readings.push(processRssBytes(target.pid));
    await sleep(200);
  }
  return { rss: percentile(readings, 50), js };
}

async function idleMemory(target: MemoryTarget, clients: Clients) {
  await clients.open('idle-warmup', target.url, IDLE_WARMUP, target.subscribe);
  await clients.close('idle-warmup');
  const none = await readMemory(target);
  const half = Math.floor(IDLE_SOCKETS / 2);
  await clients.open('idle-1', target.url, half, target.subscribe);
  const atHalf = await readMemory(target);
  await clients.open('idle-2', target.url, IDLE_SOCKETS - half, target.subscribe);
  const atAll = await readMemory(target);
  await clients.close('idle-1');
  await clients.close('idle-2');
  const closed = await readMemory(target);
  return { none, atHalf, atAll, closed, perSocketRss: (atAll.rss - none.rss) / IDLE_SOCKETS, perSocketJs: (atAll.js - none.js) / IDLE_SOCKETS };
}

/** A preload for the app child: SIGUSR2 runs a full GC and prints process.memoryUsage() on a line of its own. */
const GC_PRELOAD = `
process.on('SIGUSR2', () => {
  global.gc();
  process.stdout.write('\\nbench-gc ' + JSON.stringify(process.memoryUsage()) + '\\n');
});
`;

async function appMemoryTarget(databaseUrl: string): Promise<MemoryTarget & { app: ChildServer; token: string }> {
  const preload = join(tempDir('coderunner-bench-gc-'), 'gc-on-signal.js');
  writeFileSync(preload, GC_PRELOAD);
  const app = await startAppChild(databaseUrl, { SCHEDULER_ENABLED: 'false', REALTIME_MAX_CONNECTIONS_PER_USER: '100000' }, ['--expose-gc', '--require', preload]);
  const user = await userOf(app.url);
  const gc = async (): Promise<number> => {
    const marks = () => app.output().split('\nbench-gc ').length;
    const before = marks();
    process.kill(app.pid, 'SIGUSR2');
    const deadline = Date.now() + 10_000;
    while (marks() === before) {
      if (Date.now() > deadline) throw new Error('the app did not answer the GC signal');
      await sleep(50);
    }
    const line = app.output().split('\nbench-gc ').pop()!.split('\n')[0];
    const usage = JSON.parse(line) as NodeJS.MemoryUsage;
    return usage.heapUsed + usage.external;
  };
  return { name: 'app', url: wsUrl(app.url, user.token), subscribe: CLIENT_CHANNEL, pid: app.pid, gc, app, token: user.token };
}

/** The child's side of the bare reference server for (c): a `ws` server, a GC on request. */
function serveBareServer(): void {
  const http = createServer((_request, response) => response.writeHead(404).end());
  new WebSocketServer({ server: http, perMessageDeflate: false });
  http.listen(0, '127.0.0.1', () => process.send!({ url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/` }));
  process.on('message', () => {
    (global as unknown as { gc: () => void }).gc();
    const usage = process.memoryUsage();
    process.send!({ js: usage.heapUsed + usage.external });
  });
  process.on('disconnect', () => process.exit(0));
}

async function bareMemoryTarget(): Promise<MemoryTarget> {
  const child = fork(__filename, ['--bare-server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc'] });
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { url: string }) => resolve(message.url));
    child.once('exit', (code) => reject(new Error(`the bare server exited with ${code}`)));
  });
  const gc = () =>
    new Promise<number>((resolve) => {
      child.once('message', (message: { js: number }) => resolve(message.js));
      child.send({ gc: true });
    });
  return { name: 'bare ws', url, subscribe: null, pid: child.pid!, gc };
}

async function memory(databaseUrl: string, clients: Clients, goals: Goal[]): Promise<void> {
  console.log(`(c) ${IDLE_SOCKETS} idle sockets (after ${IDLE_WARMUP} opened and closed), GC'd readings at none, half, all, and after closing them ...`);
  const app = await appMemoryTarget(databaseUrl);
  const appResult = await idleMemory(app, clients);
  await app.app.stop();
  const bare = await bareMemoryTarget();
  const bareResult = await idleMemory(bare, clients);
  const mb = (bytes: number) => `${num(bytes / MB, 1)} MB`;
  const kb = (bytes: number) => `${num(bytes / KB, 1)} KB`;
  const row = (name: string, r: typeof appResult) => [
    name, mb(r.none.rss), mb(r.atHalf.rss), mb(r.atAll.rss), mb(r.closed.rss), kb(r.perSocketRss),
    kb((r.atAll.rss - r.atHalf.rss) / (IDLE_SOCKETS - Math.floor(IDLE_SOCKETS / 2))), kb(r.perSocketJs),
  ];
  printTable(`(c) Server memory with idle sockets (VmRSS after a full GC; JS = heapUsed + external)`, [
    'server', 'RSS, none', `${Math.floor(IDLE_SOCKETS / 2)}`, `${IDLE_SOCKETS}`, 'closed again', 'RSS/socket', 'RSS/socket 2nd half', 'JS/socket',
  ], [row('app (authenticated, subscribed)', appResult), row('bare ws (open only), reference', bareResult)]);
  // RSS can grow less than the live objects when they land in heap pages already committed: the larger figure counts.
  const perSocket = Math.max(appResult.perSocketRss, appResult.perSocketJs);
  goals.push({
    name: `(c) app memory per idle socket, ${IDLE_SOCKETS} sockets (the larger of RSS and JS growth)`,
    actual: `${kb(perSocket)} (RSS ${kb(appResult.perSocketRss)}, JS ${kb(appResult.perSocketJs)})`,
    target: `≤ ${num(GOAL_IDLE_BYTES / KB)} KB`,
    pass: perSocket <= GOAL_IDLE_BYTES,
  });
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  console.log(`bench:realtime — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { serverUrl, source } = await findPostgresServer();
  const database = await createBenchDatabase(serverUrl);
  console.log(
    `database: ${database.name} on ${source}; parts ${PARTS}; (a) ${SOCKETS} sockets × ${MESSAGES} messages, ${ROUNDS} rounds; ` +
      `(b) ${LATENCY_MESSAGES} messages every ${LATENCY_INTERVAL_MS} ms to ${LATENCY_SOCKETS} sockets; (c) ${IDLE_SOCKETS} idle sockets`,
  );
  const clients = await Clients.start();
  const goals: Goal[] = [];
  if (PARTS.includes('a')) await fanOut(database.url, clients, goals);
  if (PARTS.includes('b')) await latency(database.url, clients, goals);
  if (PARTS.includes('c')) await memory(database.url, clients, goals);
  printGoals(goals);
  console.log(`\nload average now ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
}

if (process.argv.includes('--clients')) serveClients();
else if (process.argv.includes('--bare-server')) serveBareServer();
else runBenchmark(main);
