import { ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { Client } from 'pg';
import { AiUpstreamBehavior, AiUpstreamStandIn } from '../test/support/ai-upstream';
import {
  BENCH_ADMIN_PASSWORD,
  ChildServer,
  Goal,
  createBenchDatabase,
  findPostgresServer,
  ms,
  num,
  onCleanup,
  percentile,
  postJson,
  printGoals,
  printTable,
  processCpuSeconds,
  registerUser,
  runBenchmark,
  startAppChild,
  timeSequential,
} from './support';

/**
 * `npm run bench:ai`: what the chat relay adds to a model's stream, and GET
 * /api/v1/ai/usage on a large usage table, in one process run so the ratios
 * compare like with like on a noisy machine.
 *
 * Three processes: this one is the HTTP client only (node:http, keep-alive
 * connections, the same parsing for both sides); the app runs in a child on a fresh
 * bench database (its migrations make the schema); the AI provider is the
 * tests' stand-in (test/support/ai-upstream.ts, OpenAI-style SSE, no delay
 * between chunks) in a child of its own (this file started again with
 * --stand-in, configured over IPC). Not in this process: here the client would
 * share one event loop with the server it reads in the direct runs but not
 * with the app in the relayed ones, which would slow the baseline down and
 * flatter the ratio. So "direct" is client process → stand-in process over
 * loopback, and "relayed" is client → app → stand-in, the same two ends plus
 * the app (and the database it writes each exchange to) in between.
 *
 * The admin, logged in, streams with an AI config of the catalog's deepseek
 * provider whose base_url is the stand-in (admins are exempt from the plan's AI
 * limits; startAppChild turns the request rate limits off).
 *
 *  (a) Time to first token, one request at a time (BENCH_RUNS samples each
 *      after a warm-up), direct and relayed interleaved (and their order
 *      alternated) so drift hits both: from sending the request to reading the
 *      first content frame, the stand-in's `/v1/chat/completions` with
 *      stream:true vs POST /api/v1/ai/chat/stream. Each stream is read to its
 *      end before the next request. Goal: relayed p50 − direct p50 ≤ 5 ms.
 *  (b) BENCH_STREAMS (200) concurrent streams of BENCH_CHUNKS (500) content
 *      chunks each, all started at once: content chunks per second from the
 *      first request to the last stream's end (its `done` event, after the
 *      exchange is stored / `[DONE]`), relayed vs direct — goal ≥ 0.5×. Every
 *      stream must bring all its chunks and end well. BENCH_ROUNDS (3) rounds
 *      of each, interleaved, after a warm-up round of each; medians are
 *      compared. Shown per run: the median time to a stream's first chunk (how
 *      long 200 starts at once take), and the CPU time of the client, the
 *      stand-in and the app (a client near 100 % of a core would be the
 *      bottleneck; it counts frames with string tests, no JSON parsing, in
 *      both runs). And the app's peak RSS growth during a relayed round (VmRSS
 *      of its pid every 50 ms, against the reading just before the round):
 *      goal ≤ 100 MB, the worst round counts.
 *  (c) GET /api/v1/ai/usage over 1 M rows of ai_usage, seeded by SQL after the
 *      app's migrations (only the original columns; whatever triggers the
 *      migrations define run, and the seeding is timed): the measured user
 *      (registered through the API) owns 600 000 over the last 90 days and 5
 *      models, the other 400 000 belong to 2 000 other users; the measured user
 *      also has 3 000 conversations with 60 000 messages (20 each), and the
 *      first 30 000 of their usage rows point at them (10 per conversation, as
 *      the chat writes them; a message counter on conversations, where the
 *      schema has one, is set as the app would have kept it). VACUUM ANALYZE,
 *      one answer checked against SQL aggregates of the rows themselves (a
 *      wrong answer fails the goal), then BENCH_RUNS sequential requests after
 *      a warm-up: goal p95 ≤ 30 ms.
 *
 * Knobs: BENCH_RUNS (default 200), BENCH_STREAMS (200), BENCH_CHUNKS (500),
 * BENCH_ROUNDS (3), BENCH_PARTS (default abc: which of (a)–(c) to run),
 * BENCH_EMBEDDED=true. Exits 0 when the benchmark ran, whatever the verdicts.
 */

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const STREAMS = Number(process.env.BENCH_STREAMS ?? 200);
const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PARTS = (process.env.BENCH_PARTS ?? 'abc').toLowerCase();

const GOAL_TTFT_ADDED_MS = 5;
const GOAL_THROUGHPUT_RATIO = 0.5;
const GOAL_RSS_GROWTH_MB = 100;
const GOAL_USAGE_P95_MS = 30;

/** A catalog model whose provider (deepseek, OpenAI-style) gets the admin's AI config pointing at the stand-in. */
const MODEL = 'deepseek-chat';
const PROVIDER = 'deepseek';
const API_KEY = 'sk-bench-0123456789abcdef';
const PROMPT = 'Say hello, please.';
/** (a): a short reply in a few chunks; only the first one is timed. */
const SHORT_REPLY: Partial<AiUpstreamBehavior> = { reply: 'Hello from the stand-in', chunks: 3, promptTokens: 5, completionTokens: 6 };
/** (b): CHUNKS pieces of 4 characters (about a token each); the stand-in splits the reply evenly. */
const LONG_REPLY: Partial<AiUpstreamBehavior> = { reply: 'tok '.repeat(CHUNKS), chunks: CHUNKS, promptTokens: 5, completionTokens: CHUNKS };

const USAGE_ROWS = 1_000_000;
const OWN_USAGE_ROWS = 600_000;
const OTHER_USERS = 2_000;
const CONVERSATIONS = 3_000;
const MESSAGES_PER_CONVERSATION = 20;
const DAYS = 90;
/** Model and provider of the seeded usage rows (names only: ai_usage keeps them as written). */
const USAGE_MODELS: Array<[model: string, provider: string]> = [
  ['deepseek-chat', 'deepseek'],
  ['gpt-4o-mini', 'openai'],
  ['claude-sonnet-4-5', 'anthropic'],
  ['qwen-plus', 'qwen'],
  ['llama3.2', 'ollama'],
];

const MB = 1024 * 1024;

// ---------------------------------------------------------------- the stand-in, in a child process

/** Messages between this process and the stand-in child. */
type ToStandIn = { configure: Partial<AiUpstreamBehavior> };
type FromStandIn = { url: string } | { configured: true };

/** The child's side: runs the stand-in until the parent goes away. */
async function serveStandIn(): Promise<void> {
  const standIn = await AiUpstreamStandIn.start();
  process.on('message', (message: ToStandIn) => {
    // reset() also forgets the recorded requests, which would otherwise pile up over thousands of calls.
    standIn.reset();
    standIn.configure(message.configure);
    process.send!({ configured: true } satisfies FromStandIn);
  });
  process.on('disconnect', () => void standIn.close().finally(() => process.exit(0)));
  process.send!({ url: standIn.url } satisfies FromStandIn);
}

interface StandInChild {
  url: string;
  pid: number;
  configure(behavior: Partial<AiUpstreamBehavior>): Promise<void>;
}

/** This file again with --stand-in, over IPC: it answers with its URL once listening. */
async function startStandInChild(): Promise<StandInChild> {
  const child: ChildProcess = fork(__filename, ['--stand-in'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [] });
  onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: FromStandIn) => ('url' in message ? resolve(message.url) : reject(new Error('stand-in: unexpected message'))));
    child.once('exit', (code) => reject(new Error(`the stand-in exited with ${code} before it listened`)));
  });
  const configure = (behavior: Partial<AiUpstreamBehavior>) =>
    new Promise<void>((resolve) => {
      child.once('message', () => resolve());
      child.send({ configure: behavior } satisfies ToStandIn);
    });
  return { url, pid: child.pid!, configure };
}

// ---------------------------------------------------------------- reading event streams

/**
 * Keep-alive connections without a limit, the same for direct and relayed
 * requests. (a) uses one agent throughout; each run of (b) a new one, closed
 * after it: a connection left idle between runs could be closed by the server
 * (Node's 5 s keep-alive timeout, the stand-in's case) just as the next run
 * reuses it, failing that stream with ECONNRESET.
 */
const keepAliveAgent = () => new Agent({ keepAlive: true, maxSockets: Infinity });

/**
 * POSTs `body` as JSON and hands each complete SSE frame (the text between
 * blank lines) to `onFrame` as it arrives; resolves at the end of the
 * response. Anything but 200 rejects with the body.
 */
function postSse(agent: Agent, url: string, headers: Record<string, string>, body: unknown, onFrame: (frame: string) => void): Promise<void> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', agent, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (part: string) => (text += part));
          res.on('end', () => reject(new Error(`POST ${url}: ${res.statusCode} ${text.slice(0, 500)}`)));
          return;
        }
        // A read holds any number of frames, the last one maybe cut: it waits in `pending` for the rest.
        let pending = '';
        res.on('data', (part: string) => {
          const text = pending + part;
          let start = 0;
          for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', start)) {
            onFrame(text.slice(start, end));
            start = end + 2;
          }
          pending = text.slice(start);
        });
        res.on('end', () => resolve());
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

type FrameKind = 'content' | 'end' | 'error' | 'other';

/**
 * A frame of the stand-in's OpenAI-style stream, by string tests (cheap enough
 * for 100 000 frames a run): a non-empty delta.content is content (the first
 * frame carries the role and an empty content), `[DONE]` ends it.
 */
function directKind(frame: string): FrameKind {
  if (frame === 'data: [DONE]') return 'end';
  return frame.includes('"delta":{"content":"') && !frame.includes('"delta":{"content":""') ? 'content' : 'other';
}

/**
 * A frame of the app's chat stream: its `event:` line if it has one, else the
 * `type` its JSON starts with (`data: {"type":"content",…}`); `done` ends it.
 */
function relayedKind(frame: string): FrameKind {
  const type = /^event: ?(\w+)/m.exec(frame)?.[1] ?? /^data: ?\{"type":"(\w+)"/m.exec(frame)?.[1];
  if (type === 'content') return 'content';
  if (type === 'done') return 'end';
  if (type === 'error') return 'error';
  return 'other';
}

/** The text a content frame carries (JSON parsed: used to check replies, not in the timed loops' hot path). */
function contentOf(frame: string, side: 'direct' | 'relayed'): string {
  const data = frame.split('\n').find((line) => line.startsWith('data:'));
  if (!data) return '';
  const parsed = JSON.parse(data.slice('data:'.length).trim());
  return side === 'direct' ? (parsed.choices?.[0]?.delta?.content ?? '') : (parsed.content ?? '');
}

interface Target {
  side: 'direct' | 'relayed';
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

interface StreamResult {
  /** ms from sending the request to the first content frame (NaN if none). */
  firstTokenMs: number;
  chunks: number;
  ended: boolean;
  error?: string;
  /** The reply put together again, when asked for. */
  text?: string;
}

/** One stream to its end, counting content frames. */
async function readStream(agent: Agent, target: Target, keepText = false): Promise<StreamResult> {
  const kind = target.side === 'direct' ? directKind : relayedKind;
  const started = process.hrtime.bigint();
  const result: StreamResult = { firstTokenMs: NaN, chunks: 0, ended: false, text: keepText ? '' : undefined };
  try {
    await postSse(agent, target.url, target.headers, target.body, (frame) => {
      switch (kind(frame)) {
        case 'content':
          if (result.chunks === 0) result.firstTokenMs = Number(process.hrtime.bigint() - started) / 1e6;
          result.chunks++;
          if (keepText) result.text += contentOf(frame, target.side);
          break;
        case 'end':
          result.ended = true;
          break;
        case 'error':
          result.error = frame;
          break;
        default:
          break;
      }
    });
  } catch (error) {
    result.error = (error as Error).message;
  }
  return result;
}

/** Throws unless the stream brought the whole reply and ended well. */
function check(result: StreamResult, side: string, reply: Partial<AiUpstreamBehavior>): void {
  let problem = result.error;
  if (!problem && !result.ended) problem = 'no end event';
  if (!problem && result.text !== undefined && result.text !== reply.reply) problem = `another reply: ${JSON.stringify(result.text.slice(0, 80))}`;
  if (problem) throw new Error(`${side} stream: ${problem}`);
}

// ---------------------------------------------------------------- (a) time to first token

async function timeToFirstToken(direct: Target, relayed: Target): Promise<{ direct: number[]; relayed: number[] }> {
  const agent = keepAliveAgent();
  // Once each with the text put together: both sides deliver the whole reply.
  check(await readStream(agent, direct, true), 'direct', SHORT_REPLY);
  check(await readStream(agent, relayed, true), 'relayed', SHORT_REPLY);
  const samples = { direct: [] as number[], relayed: [] as number[] };
  const warmup = Math.min(50, Math.max(10, Math.round(RUNS / 4)));
  for (let i = 0; i < warmup + RUNS; i++) {
    // Alternating which goes first cancels any effect of following the other.
    const order = i % 2 === 0 ? [direct, relayed] : [relayed, direct];
    for (const target of order) {
      const result = await readStream(agent, target);
      check(result, target.side, SHORT_REPLY);
      if (i >= warmup) samples[target.side].push(result.firstTokenMs);
    }
  }
  agent.destroy();
  return samples;
}

// ---------------------------------------------------------------- (b) concurrent streams

/** Resident memory of a process in bytes, from /proc (Linux). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

interface FanOutResult {
  side: 'direct' | 'relayed';
  seconds: number;
  chunks: number;
  chunksPerSecond: number;
  failed: number;
  firstError?: string;
  /** Median over the streams of the time to their first content frame, ms: how long the start takes under this load. */
  firstTokenMs: number;
  /** CPU seconds used during the run by this process (the client), the stand-in and the app. */
  clientCpu: number;
  standInCpu: number;
  appCpu: number;
  /** Relayed runs: the app's RSS before the run and its peak growth during it, in bytes. */
  rssBefore?: number;
  rssGrowth?: number;
}

/** STREAMS streams at once; a stream counts as failed unless it brought all CHUNKS chunks and its end. */
async function fanOut(target: Target, standInPid: number, appPid: number): Promise<FanOutResult> {
  let rssBefore: number | undefined;
  let rssPeak = 0;
  let sampler: NodeJS.Timeout | undefined;
  if (target.side === 'relayed') {
    rssBefore = rssOf(appPid);
    rssPeak = rssBefore;
    sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssOf(appPid))), 50);
  }
  const clientBefore = process.cpuUsage();
  const standInBefore = processCpuSeconds(standInPid);
  const appBefore = processCpuSeconds(appPid);
  const agent = keepAliveAgent();
  const started = process.hrtime.bigint();
  // The first stream also checks the text, with JSON parsing; the others only count.
  const results = await Promise.all(Array.from({ length: STREAMS }, (_, i) => readStream(agent, target, i === 0)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  const client = process.cpuUsage(clientBefore);
  if (sampler) {
    clearInterval(sampler);
    rssPeak = Math.max(rssPeak, rssOf(appPid));
  }
  const chunks = results.reduce((sum, r) => sum + r.chunks, 0);
  const bad = results.filter((r) => r.error || !r.ended || r.chunks !== CHUNKS || (r.text !== undefined && r.text !== LONG_REPLY.reply));
  const firstBad = bad[0];
  return {
    side: target.side,
    seconds,
    chunks,
    chunksPerSecond: chunks / seconds,
    failed: bad.length,
    firstError: firstBad ? (firstBad.error ?? `${firstBad.chunks} chunks, ended: ${firstBad.ended}`) : undefined,
    firstTokenMs: percentile(results.map((r) => r.firstTokenMs).filter(Number.isFinite), 50),
    clientCpu: (client.user + client.system) / 1e6,
    standInCpu: processCpuSeconds(standInPid) - standInBefore,
    appCpu: target.side === 'relayed' ? processCpuSeconds(appPid) - appBefore : NaN,
    rssBefore,
    rssGrowth: rssBefore !== undefined ? rssPeak - rssBefore : undefined,
  };
}

// ---------------------------------------------------------------- (c) usage seeding

async function step(label: string, run: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await run();
  const seconds = (Date.now() - started) / 1000;
  console.log(`  ${label} (${seconds.toFixed(1)} s)`);
  return seconds;
}

/** A text array literal, in parentheses so it can be subscripted. */
const literal = (values: string[]) => `(ARRAY[${values.map((v) => `'${v}'`).join(', ')}])`;

/**
 * The usage data, by SQL (see the header). Only ai_usage's original columns
 * are written, so columns added later keep their defaults, and its triggers
 * stay on: what maintaining them costs is part of the timed insert.
 */
async function seedUsage(db: Client, userId: string): Promise<{ usageSeconds: number; totalSeconds: number }> {
  const models = literal(USAGE_MODELS.map(([model]) => model));
  const providers = literal(USAGE_MODELS.map(([, provider]) => provider));
  const started = Date.now();
  await step(`${OTHER_USERS} other users`, async () => {
    await db.query(`CREATE TEMP TABLE other_users AS SELECT i AS n, gen_random_uuid() AS id FROM generate_series(1, ${OTHER_USERS}) AS i`);
    await db.query('ALTER TABLE other_users ADD PRIMARY KEY (n)');
    await db.query(`INSERT INTO users (id, username, email, password_hash, created_at, updated_at)
                    SELECT id, 'ai_' || n, 'ai_' || n || '@example.test', 'not-a-bcrypt-hash', now() - interval '400 days', now() FROM other_users`);
  });
  await step(`${CONVERSATIONS} conversations, ${CONVERSATIONS * MESSAGES_PER_CONVERSATION} messages`, async () => {
    // Conversation n started (n / CONVERSATIONS) of the 90 days ago, its 20 messages a minute apart.
    await db.query(`CREATE TEMP TABLE bench_conversations AS
                    SELECT i AS n, gen_random_uuid() AS id, ${models}[1 + i % 5] AS model,
                           now() - interval '${DAYS} days' * (i::float8 / ${CONVERSATIONS}) - interval '1 hour' AS created_at
                    FROM generate_series(1, ${CONVERSATIONS}) AS i`);
    await db.query('ALTER TABLE bench_conversations ADD PRIMARY KEY (n)');
    // A message counter on conversations, where the schema has one, is moved by the app when it writes an
    // exchange (no trigger): the seeded conversations start with theirs, as if the app had written them.
    const { rows: counter } = await db.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'ai_conversations' AND column_name = 'message_count'`,
    );
    const [countColumn, countValue] = counter.length ? [', message_count', `, ${MESSAGES_PER_CONVERSATION}`] : ['', ''];
    await db.query(
      `INSERT INTO ai_conversations (id, user_id, title, model, created_at, updated_at${countColumn})
       SELECT id, $1, 'Benchmark conversation #' || n, model, created_at, created_at + interval '${MESSAGES_PER_CONVERSATION} minutes'${countValue}
       FROM bench_conversations`,
      [userId],
    );
    // Odd j: the user's message; even j: the reply with its tokens and cost. ORDER BY keeps seq in conversation order.
    await db.query(`
      INSERT INTO ai_messages (id, conversation_id, role, content, prompt_tokens, completion_tokens, cost, latency_ms, model, created_at)
      SELECT gen_random_uuid(), c.id,
             CASE WHEN j % 2 = 1 THEN 'user' ELSE 'assistant' END,
             CASE WHEN j % 2 = 1 THEN 'Question ' || j || ': how do I reverse a list in Python?' ELSE 'Use reversed(items) or items[::-1].' END,
             CASE WHEN j % 2 = 1 THEN 0 ELSE 50 + (c.n * 31 + j * 7) % 1950 END,
             CASE WHEN j % 2 = 1 THEN 0 ELSE 20 + (c.n * 17 + j * 13) % 980 END,
             CASE WHEN j % 2 = 1 THEN 0 ELSE round(((50 + (c.n * 31 + j * 7) % 1950) * 0.0005 + (20 + (c.n * 17 + j * 13) % 980) * 0.0015) / 1000, 6) END,
             CASE WHEN j % 2 = 1 THEN NULL ELSE 300 + (c.n + j) % 4000 END,
             CASE WHEN j % 2 = 1 THEN NULL ELSE c.model END,
             c.created_at + j * interval '1 minute'
      FROM bench_conversations c CROSS JOIN generate_series(1, ${MESSAGES_PER_CONVERSATION}) AS j
      ORDER BY c.n, j`);
  });
  // Rows i = 1… go back in time evenly over the 90 days; tokens vary by multiplying i by primes.
  const usageColumns = 'id, user_id, conversation_id, model, provider, prompt_tokens, completion_tokens, cost, created_at';
  const values = (total: number) => `
      ${models}[1 + i % 5], ${providers}[1 + i % 5],
      50 + (i::bigint * 7919) % 1950, 20 + (i::bigint * 104729) % 980,
      round(((50 + (i::bigint * 7919) % 1950) * 0.0005 + (20 + (i::bigint * 104729) % 980) * 0.0015) / 1000, 6),
      now() - interval '${DAYS} days' * ((i - 1)::float8 / ${total})`;
  const linked = (CONVERSATIONS * MESSAGES_PER_CONVERSATION) / 2;
  const ownSeconds = await step(`${OWN_USAGE_ROWS} usage rows of the measured user (${linked} of them in its conversations)`, () =>
    db.query(
      `INSERT INTO ai_usage (${usageColumns})
       SELECT gen_random_uuid(), $1::uuid, c.id, ${values(OWN_USAGE_ROWS)}
       FROM generate_series(1, ${OWN_USAGE_ROWS}) AS i
       LEFT JOIN bench_conversations c ON i <= ${linked} AND c.n = 1 + (i - 1) / ${linked / CONVERSATIONS}`,
      [userId],
    ),
  );
  const otherRows = USAGE_ROWS - OWN_USAGE_ROWS;
  const otherSeconds = await step(`${otherRows} usage rows of ${OTHER_USERS} other users`, () =>
    db.query(`
      INSERT INTO ai_usage (${usageColumns})
      SELECT gen_random_uuid(), u.id, NULL, ${values(otherRows)}
      FROM generate_series(1, ${otherRows}) AS i
      JOIN other_users u ON u.n = 1 + i % ${OTHER_USERS}`),
  );
  await step('VACUUM ANALYZE', () => db.query('VACUUM ANALYZE'));
  return { usageSeconds: ownSeconds + otherSeconds, totalSeconds: (Date.now() - started) / 1000 };
}

/**
 * One answer of GET /ai/usage against aggregates computed here straight from
 * ai_usage, ai_conversations and ai_messages: the differences, empty when it
 * is right (the endpoint may read a roll-up; this catches one that drifts).
 */
async function usageDifferences(db: Client, userId: string, answer: any): Promise<string[]> {
  const { rows: [totals] } = await db.query(
    `SELECT count(*)::int AS requests, sum(prompt_tokens)::bigint::text AS prompt_tokens, sum(completion_tokens)::bigint::text AS completion_tokens,
            sum(cost)::text AS cost,
            count(*) FILTER (WHERE created_at >= ((now() AT TIME ZONE 'UTC')::date - 29) AT TIME ZONE 'UTC')::int AS last30
     FROM ai_usage WHERE user_id = $1`,
    [userId],
  );
  const { rows: byModel } = await db.query(`SELECT model, count(*)::int AS requests FROM ai_usage WHERE user_id = $1 GROUP BY model ORDER BY model`, [userId]);
  const { rows: [kept] } = await db.query(
    `SELECT (SELECT count(*) FROM ai_conversations WHERE user_id = $1)::int AS conversations,
            (SELECT count(*) FROM ai_messages m JOIN ai_conversations c ON c.id = m.conversation_id WHERE c.user_id = $1)::int AS messages`,
    [userId],
  );
  const problems: string[] = [];
  const expect = (what: string, actual: unknown, expected: unknown) => {
    if (actual !== expected) problems.push(`${what}: ${JSON.stringify(actual)}, SQL says ${JSON.stringify(expected)}`);
  };
  expect('totals.requests', answer.totals?.requests, totals.requests);
  expect('totals.prompt_tokens', answer.totals?.prompt_tokens, Number(totals.prompt_tokens));
  expect('totals.completion_tokens', answer.totals?.completion_tokens, Number(totals.completion_tokens));
  if (!(Math.abs((answer.totals?.cost ?? NaN) - Number(totals.cost)) < 0.01)) problems.push(`totals.cost: ${answer.totals?.cost}, SQL says ${totals.cost}`);
  const answered = [...(answer.by_model ?? [])].map((m: any) => `${m.model}=${m.requests}`).sort().join(' ');
  expect('by_model', answered, byModel.map((m) => `${m.model}=${m.requests}`).join(' '));
  expect('by_day days', answer.by_day?.length, 30);
  expect('by_day requests', (answer.by_day ?? []).reduce((sum: number, day: any) => sum + day.requests, 0), totals.last30);
  expect('conversations', answer.conversations, kept.conversations);
  expect('messages', answer.messages, kept.messages);
  return problems;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  console.log(`bench:ai — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { serverUrl, source } = await findPostgresServer();
  const database = await createBenchDatabase(serverUrl);
  console.log(
    `database: ${database.name} on ${source}; parts ${PARTS}; ${RUNS} sequential samples; ` +
      `${STREAMS} streams × ${CHUNKS} chunks, ${ROUNDS} rounds`,
  );

  const standIn = await startStandInChild();
  const app: ChildServer = await startAppChild(database.url, { SCHEDULER_ENABLED: 'false' });
  const db = new Client({ connectionString: database.url });
  await db.connect();
  try {
    const goals: Goal[] = [];

    // ---- (c) usage over 1 M rows
    if (PARTS.includes('c')) {
      const user = await registerUser(app.url);
      const { rows: [me] } = await db.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [user.username]);
      console.log('seeding (c):');
      const seeded = await seedUsage(db, me.id);
      const { rows: [counts] } = await db.query(`SELECT (SELECT count(*)::int FROM ai_usage) AS usage, (SELECT count(*)::int FROM ai_usage WHERE user_id = $1) AS own`, [me.id]);
      console.log(
        `seeded in ${seeded.totalSeconds.toFixed(1)} s: ${counts.usage} ai_usage rows (${counts.own} the measured user's), ` +
          `inserting them took ${seeded.usageSeconds.toFixed(1)} s (${num(USAGE_ROWS / seeded.usageSeconds)} rows/s, triggers included)`,
      );

      // A fresh token: the seeding may take longer than a token lives.
      const login = await postJson(`${app.url}/api/v1/auth/login`, { username: user.username, password: user.password });
      if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
      const auth = { authorization: `Bearer ${login.body.tokens.access as string}` };
      const getUsage = async () => {
        const response = await fetch(`${app.url}/api/v1/ai/usage`, { headers: auth });
        const body = await response.json();
        if (response.status !== 200) throw new Error(`GET /ai/usage: ${response.status} ${JSON.stringify(body)}`);
        return body;
      };
      const problems = await usageDifferences(db, me.id, await getUsage());
      for (const problem of problems) console.log(`GET /ai/usage differs from SQL: ${problem}`);
      console.log(`(c) GET /api/v1/ai/usage as the user with ${counts.own} rows ...`);
      const samples = await timeSequential(RUNS, getUsage, 20);
      printTable(`(c) GET /api/v1/ai/usage (sequential, ${RUNS} samples)`, ['what', 'p50', 'p95', 'p99', 'max'], [
        [`${counts.own} of ${counts.usage} rows, ${CONVERSATIONS} conversations`, ms(percentile(samples, 50)), ms(percentile(samples, 95)), ms(percentile(samples, 99)), ms(Math.max(...samples))],
      ]);
      const p95 = percentile(samples, 95);
      goals.push({
        name: `(c) GET /ai/usage p95, 1 M rows${problems.length ? ' (ANSWER WRONG)' : ''}`,
        actual: ms(p95),
        target: `≤ ${GOAL_USAGE_P95_MS} ms`,
        pass: p95 <= GOAL_USAGE_P95_MS && problems.length === 0,
      });
    }

    if (PARTS.includes('a') || PARTS.includes('b')) {
      // The admin's AI config sends deepseek's models to the stand-in (a loopback base_url is allowed).
      const login = await postJson(`${app.url}/api/v1/auth/login`, { username: 'admin', password: BENCH_ADMIN_PASSWORD });
      if (login.status !== 200) throw new Error(`admin login failed: ${login.status}`);
      const adminAuth = { authorization: `Bearer ${login.body.tokens.access as string}` };
      const config = await postJson(
        `${app.url}/api/v1/ai-configs`,
        { name: 'bench stand-in', provider: PROVIDER, model: MODEL, base_url: `${standIn.url}/v1`, api_key: API_KEY },
        adminAuth,
      );
      if (config.status !== 201) throw new Error(`POST /ai-configs: ${config.status} ${JSON.stringify(config.body)}`);

      // What the app sends the stand-in (see ChatUpstream): the direct side sends the same.
      const direct: Target = {
        side: 'direct',
        url: `${standIn.url}/v1/chat/completions`,
        headers: { authorization: `Bearer ${API_KEY}` },
        body: { model: MODEL, messages: [{ role: 'user', content: PROMPT }], max_tokens: 4096, stream: true, stream_options: { include_usage: true } },
      };
      const relayed: Target = { side: 'relayed', url: `${app.url}/api/v1/ai/chat/stream`, headers: adminAuth, body: { model: MODEL, message: PROMPT } };

      // ---- (a) time to first token
      if (PARTS.includes('a')) {
        await standIn.configure(SHORT_REPLY);
        console.log(`(a) time to first token, direct and relayed interleaved, ${RUNS} samples each ...`);
        const ttft = await timeToFirstToken(direct, relayed);
        const row = (name: string, values: number[]) => [name, ms(percentile(values, 50)), ms(percentile(values, 95)), ms(percentile(values, 99)), ms(Math.max(...values))];
        const added = percentile(ttft.relayed, 50) - percentile(ttft.direct, 50);
        printTable(`(a) Time to first token (sequential, ${RUNS} samples each, interleaved)`, ['what', 'p50', 'p95', 'p99', 'max'], [
          row('direct: stand-in /v1/chat/completions', ttft.direct),
          row('relayed: POST /api/v1/ai/chat/stream', ttft.relayed),
        ]);
        console.log(`\nadded by the relay: p50 ${ms(added)}, p95 ${ms(percentile(ttft.relayed, 95) - percentile(ttft.direct, 95))}`);
        goals.push({ name: '(a) time to first token added by the relay, p50', actual: ms(added), target: `≤ ${GOAL_TTFT_ADDED_MS} ms`, pass: added <= GOAL_TTFT_ADDED_MS });
      }

      // ---- (b) concurrent streams
      if (PARTS.includes('b')) {
        await standIn.configure(LONG_REPLY);
        console.log(`(b) ${STREAMS} concurrent streams × ${CHUNKS} chunks: a warm-up round each, then ${ROUNDS} rounds each, interleaved ...`);
        await fanOut(direct, standIn.pid, app.pid);
        await fanOut(relayed, standIn.pid, app.pid);
        const runs: FanOutResult[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const order = round % 2 === 0 ? [direct, relayed] : [relayed, direct];
          for (const target of order) runs.push(await fanOut(target, standIn.pid, app.pid));
        }
        const of = (side: 'direct' | 'relayed') => runs.filter((r) => r.side === side);
        const pct = (cpu: number, seconds: number) => (Number.isFinite(cpu) ? `${num((100 * cpu) / seconds)} %` : 'n/a');
        printTable(
          `(b) ${STREAMS} concurrent streams × ${CHUNKS} content chunks (CPU: share of one core during the run)`,
          ['run', 'seconds', 'chunks/s', 'first token p50', 'failed', 'client CPU', 'stand-in CPU', 'app CPU', 'app RSS before', 'app RSS growth'],
          runs.map((r, i) => [
            `${Math.floor(i / 2) + 1} ${r.side}`, num(r.seconds, 2), num(r.chunksPerSecond), ms(r.firstTokenMs), `${r.failed}/${STREAMS}`,
            pct(r.clientCpu, r.seconds), pct(r.standInCpu, r.seconds), pct(r.appCpu, r.seconds),
            r.rssBefore !== undefined ? `${num(r.rssBefore / MB, 1)} MB` : '', r.rssGrowth !== undefined ? `${num(r.rssGrowth / MB, 1)} MB` : '',
          ]),
        );
        const directRate = percentile(of('direct').map((r) => r.chunksPerSecond), 50);
        const relayedRate = percentile(of('relayed').map((r) => r.chunksPerSecond), 50);
        const ratio = relayedRate / directRate;
        const failed = runs.reduce((sum, r) => sum + r.failed, 0);
        for (const r of runs.filter((run) => run.failed > 0)) console.log(`warning: a ${r.side} run had ${r.failed} failed streams, e.g. ${r.firstError}`);
        const worstGrowth = Math.max(...of('relayed').map((r) => r.rssGrowth ?? NaN));
        const appCpuPerChunk = percentile(of('relayed').map((r) => (r.appCpu * 1e6) / r.chunks), 50);
        console.log(`\nrelayed ÷ direct chunks/s (medians): ${ratio.toFixed(3)}×; the app's CPU per relayed chunk: ${num(appCpuPerChunk, 1)} µs (median)`);
        goals.push({
          name: `(b) relayed chunks/s vs direct, ${STREAMS} streams (all complete)`,
          actual: `${ratio.toFixed(3)}× (${num(relayedRate)} / ${num(directRate)})`,
          target: `≥ ${GOAL_THROUGHPUT_RATIO}×`,
          pass: ratio >= GOAL_THROUGHPUT_RATIO && failed === 0,
        });
        goals.push({
          name: '(b) app peak RSS growth during a relayed round (worst)',
          actual: `${num(worstGrowth / MB, 1)} MB`,
          target: `≤ ${GOAL_RSS_GROWTH_MB} MB`,
          pass: worstGrowth <= GOAL_RSS_GROWTH_MB * MB,
        });
      }
    }

    printGoals(goals);
    console.log(`\nload average now ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
  } finally {
    await db.end();
  }
}

if (process.argv.includes('--stand-in')) void serveStandIn();
else runBenchmark(main);
