import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  BENCH_ADMIN_PASSWORD, createBenchDatabase, findPostgresServer, freePort, Goal, ms, num, percentile, postJson, printGoals, printTable, registerUser,
  runBenchmark, sleep, startAppChild, startNodeChild, tempDir,
} from './support';

/**
 * `npm run bench:files`: uploads and downloads through the API.
 *
 *  (a) one 200 MB file uploaded (curl, a process of its own) vs the same bytes
 *      copied with fs.createReadStream → fs.createWriteStream: goal ≥ 0.5× its throughput;
 *  (b) the server's peak RSS growth during (a): goal ≤ 64 MB;
 *  (c) the same file downloaded vs @fastify/static serving it on a bare Fastify: goal ≥ 0.7×;
 *  (d) 50 concurrent 1 MB uploads: p95 latency (information), and a 10 MB upload: < 2 s.
 *
 * Knobs: BENCH_FILE_MB (default 200). Always exits 0 when the benchmark ran.
 */

const FILE_MB = Number(process.env.BENCH_FILE_MB ?? 200);
const MB = 1024 * 1024;

/** Writes `bytes` of text (allowed by the default type list) to `path`. */
async function writeTextFile(path: string, bytes: number): Promise<void> {
  const block = Buffer.from(randomBytes(48 * 1024).toString('base64'));
  const out = createWriteStream(path);
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, bytes - written)))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

/** Runs curl; resolves with its stdout and the seconds it took. */
async function curl(args: string[]): Promise<{ stdout: string; seconds: number }> {
  const started = process.hrtime.bigint();
  const child = spawn('curl', ['-sS', '--fail-with-body', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`curl ${args.join(' ')} failed (${code}): ${stderr} ${stdout.slice(0, 500)}`);
  return { stdout, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

/** Resident memory of a process, in bytes (Linux). */
function rssOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

async function main(): Promise<void> {
  console.log(`bench:files — node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const { serverUrl, source } = await findPostgresServer();
  const database = await createBenchDatabase(serverUrl);
  console.log(`database: ${database.name} on ${source}`);
  const dir = tempDir('coderunner-bench-files-');
  const source200 = join(dir, 'big.txt');
  await writeTextFile(source200, FILE_MB * MB);

  const staticPort = await freePort();
  const staticScript = `
    const fastify = require('fastify')({ logger: false });
    fastify.register(require('@fastify/static'), { root: ${JSON.stringify(dir)} });
    fastify.listen({ port: ${staticPort}, host: '127.0.0.1' }).catch((e) => { console.error(e); process.exit(1); });
    for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => fastify.close().then(() => process.exit(0)));
  `;
  const [app, bare] = await Promise.all([
    startAppChild(database.url),
    startNodeChild({ name: '@fastify/static', args: ['-e', staticScript], port: staticPort, readyPath: '/big.txt', env: { NODE_ENV: 'production' } }),
  ]);
  const login = await postJson(`${app.url}/api/v1/auth/login`, { username: 'admin', password: BENCH_ADMIN_PASSWORD });
  const adminToken = login.body.tokens.access as string;
  const auth = `authorization: Bearer ${adminToken}`;

  // (a) baseline: the same bytes through a plain read stream into a write stream.
  const copyStarted = process.hrtime.bigint();
  await pipeline(createReadStream(source200), createWriteStream(join(dir, 'copy.txt')));
  const copySeconds = Number(process.hrtime.bigint() - copyStarted) / 1e9;
  rmSync(join(dir, 'copy.txt'));

  // (a) + (b): the upload, with the server's memory sampled.
  const before = rssOf(app.pid);
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(app.pid))), 20);
  const upload = await curl(['-F', `file=@${source200}`, '-H', auth, `${app.url}/api/v1/files/upload`]);
  clearInterval(sampler);
  const fileId = JSON.parse(upload.stdout).files[0].id as string;
  const uploadRatio = copySeconds / upload.seconds;

  // (c) downloads: the API vs @fastify/static, each twice, the better of two.
  const apiDownload = Math.min(
    (await curl(['-o', '/dev/null', '-H', auth, `${app.url}/api/v1/files/${fileId}/download`])).seconds,
    (await curl(['-o', '/dev/null', '-H', auth, `${app.url}/api/v1/files/${fileId}/download`])).seconds,
  );
  const staticDownload = Math.min(
    (await curl(['-o', '/dev/null', `${bare.url}/big.txt`])).seconds,
    (await curl(['-o', '/dev/null', `${bare.url}/big.txt`])).seconds,
  );
  const downloadRatio = staticDownload / apiDownload;

  // (d) 50 concurrent 1 MB uploads (each its own user and contents), then one 10 MB upload.
  const users = await Promise.all(Array.from({ length: 50 }, () => registerUser(app.url)));
  const latencies = await Promise.all(
    users.map(async (user) => {
      const form = new FormData();
      form.append('file', new Blob([randomBytes(MB / 2).toString('hex')], { type: 'text/plain' }), 'one-mb.txt');
      const started = process.hrtime.bigint();
      const response = await fetch(`${app.url}/api/v1/files/upload`, { method: 'POST', body: form, headers: { authorization: `Bearer ${user.token}` } });
      await response.arrayBuffer();
      if (response.status !== 201) throw new Error(`1 MB upload answered ${response.status}`);
      return Number(process.hrtime.bigint() - started) / 1e6;
    }),
  );
  const ten = join(dir, 'ten.txt');
  await writeTextFile(ten, 10 * MB);
  const tenUpload = await curl(['-F', `file=@${ten}`, '-H', auth, `${app.url}/api/v1/files/upload`]);

  const mbps = (seconds: number, mb = FILE_MB) => `${num(mb / seconds, 1)} MB/s`;
  printTable(
    `${FILE_MB} MB file`,
    ['what', 'seconds', 'throughput'],
    [
      ['fs read stream → write stream (baseline)', num(copySeconds, 2), mbps(copySeconds)],
      ['POST /files/upload (curl -F)', num(upload.seconds, 2), mbps(upload.seconds)],
      ['@fastify/static GET (baseline)', num(staticDownload, 2), mbps(staticDownload)],
      ['GET /files/:id/download', num(apiDownload, 2), mbps(apiDownload)],
      ['POST /files/upload, 10 MB', num(tenUpload.seconds, 2), mbps(tenUpload.seconds, 10)],
    ],
  );
  printTable('50 concurrent 1 MB uploads', ['p50', 'p95', 'max'], [[ms(percentile(latencies, 50)), ms(percentile(latencies, 95)), ms(Math.max(...latencies))]]);
  const growthMb = (peak - before) / MB;
  const goals: Goal[] = [
    { name: 'upload vs fs copy throughput', actual: `${uploadRatio.toFixed(2)}×`, target: '≥ 0.5×', pass: uploadRatio >= 0.5 },
    { name: 'server peak RSS growth during the upload', actual: `${num(growthMb, 1)} MB`, target: '≤ 64 MB', pass: growthMb <= 64 },
    { name: 'download vs @fastify/static throughput', actual: `${downloadRatio.toFixed(2)}×`, target: '≥ 0.7×', pass: downloadRatio >= 0.7 },
    { name: '10 MB upload', actual: `${num(tenUpload.seconds, 2)} s`, target: '< 2 s', pass: tenUpload.seconds < 2 },
  ];
  printGoals(goals);
  await sleep(10);
  console.log(`\nload average now ${loadavg().map((l) => l.toFixed(2)).join(' ')} (other work on this machine skews the figures)`);
}

runBenchmark(main);
