import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { bwrapArgs, SandboxLayout } from '../../../common/sandbox/sandbox-layout';
import type { AppSlot } from './app-resources';
import { OutboundLink, OutboundOptions, SANDBOX_DNS } from './outbound-link';
import { processTrees, readStat } from './process-tree';

/** Where a deployed app's files and its socket appear inside its sandbox. */
export const APP_DIR = '/app';
export const RUN_DIR = '/run/app';
const SOCKET_NAME = 'app.sock';

/** A line of output longer than this is cut, and flagged so. */
export const MAX_LINE_BYTES = 16 * 1024;

export interface AppSandboxOptions {
  bwrapBinary: string;
  /** The layout to bind read-only; must include the Node binary running the supervisor (process.execPath). */
  layout: SandboxLayout;
  tmpfsBytes: number;
  /** The app's files on the host: bound writable at /app, its working directory. */
  appDir: string;
  /** A host directory for the socket the app is reached through (bound at /run/app); created if missing. */
  runDir: string;
  /** The TCP port the app listens on inside its own network namespace (its PORT variable). */
  port: number;
  /** The start command, run by /bin/sh -c in /app. */
  command: string;
  /** The app's variables (PORT and HOST are set besides). */
  env?: Record<string, string>;
  /** Every line the app prints, as it comes. */
  onLine?: (line: OutputLine) => void;
  /** Lets the platform read the app's output no faster than it stores it (see OutputPressure). */
  pressure?: OutputPressure;
  /** Its uid and cgroups (AppResources): entered before bubblewrap starts, given back once it has exited. */
  slot?: AppSlot;
  /** A way out to the internet (DEPLOY_OUTBOUND=internet), attached before the command runs; none without it. */
  outbound?: OutboundOptions;
}

/** Where a sandbox with outbound access finds the CA certificates TLS clients look for. */
const CA_DIRECTORIES = ['/etc/ssl', '/etc/ca-certificates', '/etc/pki'];

export interface OutputLine {
  stream: 'stdout' | 'stderr';
  text: string;
  /** The line was longer than MAX_LINE_BYTES and was cut. */
  truncated: boolean;
}

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The kernel killed it for want of memory (its memory cgroup's limit). */
  outOfMemory?: boolean;
}

/** How an exit is told in logs and errors: `code 1`, `SIGKILL`, `out of memory (256 MB)`. */
export function exitText(exit: AppExit | null): string {
  if (!exit) return 'no answer';
  if (exit.outOfMemory) return 'out of memory';
  return exit.code !== null ? `code ${exit.code}` : String(exit.signal);
}

/**
 * Runs inside the sandbox as its first process (node -e): starts the app's
 * command and relays every connection on the Unix socket in /run/app to the
 * app's port on the sandbox's own loopback. It exits with the app's status.
 * Plain JavaScript: it is handed to `node -e`, nothing of the platform is
 * mounted inside.
 */
const SUPERVISOR = `
const net = require('net');
const { spawn } = require('child_process');
const [socketPath, port, command] = process.argv.slice(1);
const app = spawn('/bin/sh', ['-c', command], { stdio: 'inherit' });
const relay = net.createServer((client) => {
  const upstream = net.connect(Number(port), '127.0.0.1');
  const close = () => { client.destroy(); upstream.destroy(); };
  client.on('error', close);
  upstream.on('error', close);
  client.pipe(upstream);
  upstream.pipe(client);
});
relay.listen(socketPath);
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => app.kill(signal));
app.on('exit', (code, signal) => process.exit(code === null ? 128 + (require('os').constants.signals[signal] || 9) : code));
`;

/**
 * One deployed app's sandbox: bubblewrap with every namespace of its own (the
 * network one holds only a loopback device, so the app reaches nothing of the
 * host — not PostgreSQL, not the API, not another app — nor anything outside),
 * its files bound writable at /app and nothing else of the host writable. The
 * platform reaches the app through a Unix socket in a host directory bound at
 * /run/app, relayed inside to the app's TCP port (so apps listen on PORT as
 * they would anywhere).
 *
 * Stopping kills the sandbox's process tree at once: bubblewrap is the pid
 * namespace's init, and the namespace dies with it.
 */
export class AppSandbox {
  readonly socketPath: string;
  /** The app's files on the host (its version's directory). */
  readonly appDir: string;
  readonly exited: Promise<AppExit>;
  /** Its host uid and memory limit, when it has them (AppResources). */
  readonly uid: number | null;
  readonly memoryLimitBytes: number | null;
  private readonly child: ChildProcess;
  /** Requests the proxy has sent in and not yet seen answered (enter/leave). */
  private inFlight = 0;
  private onIdle: (() => void) | null = null;
  private link?: OutboundLink;

  private constructor(options: AppSandboxOptions) {
    mkdirSync(options.runDir, { recursive: true });
    this.socketPath = join(options.runDir, SOCKET_NAME);
    this.appDir = options.appDir;
    this.uid = options.slot?.uid ?? null;
    this.memoryLimitBytes = options.slot?.memory ? options.slot.memoryBytes : null;
    // A socket left by an earlier run of this directory would make the relay's listen fail.
    rmSync(this.socketPath, { force: true });
    const env = { ...options.env, PORT: String(options.port), HOST: '127.0.0.1' };
    const outbound = options.outbound;
    const resolvConf = join(options.runDir, 'resolv.conf');
    if (outbound) writeFileSync(resolvConf, `nameserver ${SANDBOX_DNS}\n`);
    const args = bwrapArgs({
      layout: options.layout,
      extraReadOnly: outbound ? CA_DIRECTORIES.filter((dir) => existsSync(dir)) : [],
      tmpfsBytes: options.tmpfsBytes,
      writable: [
        { source: options.appDir, target: APP_DIR },
        { source: options.runDir, target: RUN_DIR },
      ],
      readOnlyFiles: outbound ? [{ source: resolvConf, target: '/etc/resolv.conf' }] : [],
      startFds: outbound ? { info: 3, block: 4 } : undefined,
      env,
      command: [process.execPath, '-e', SUPERVISOR, `${RUN_DIR}/${SOCKET_NAME}`, String(options.port), options.command],
    });
    const slot = options.slot;
    this.child = spawn('/bin/sh', [...enterCgroupsThen(slot?.procsFiles ?? []), ...asUid(slot?.uid), options.bwrapBinary, ...args], {
      stdio: outbound ? ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'],
    });
    const onLine = options.onLine ?? (() => undefined);
    splitLines(this.child.stdout!, 'stdout', onLine, options.pressure);
    splitLines(this.child.stderr!, 'stderr', onLine, options.pressure);
    this.exited = new Promise<AppExit>((resolve) => {
      this.child.on('error', () => resolve({ code: null, signal: null }));
      this.child.on('exit', (code, signal) => resolve({ code, signal }));
    }).then(async (exit) => {
      this.link?.close();
      const outOfMemory = options.slot?.outOfMemory() ?? false;
      await options.slot?.release();
      return { ...exit, outOfMemory };
    });
    if (outbound) void this.linkOut(outbound, onLine);
  }

  static start(options: AppSandboxOptions): AppSandbox {
    return new AppSandbox(options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Attaches the sandbox's way out while bubblewrap waits: reads its child's
   * pid from the info descriptor, links that network namespace, then lets the
   * command run. A link that cannot be made stops the sandbox, said on stderr.
   */
  private async linkOut(outbound: OutboundOptions, onLine: (line: OutputLine) => void): Promise<void> {
    const [info, block] = [this.child.stdio[3] as NodeJS.ReadableStream, this.child.stdio[4] as NodeJS.WritableStream];
    // Both ends break when the sandbox goes (a reset, on a pipe nobody reads any more): not an error of the platform.
    for (const stream of [info, block]) stream.on('error', () => undefined);
    try {
      const childPid = await new Promise<number>((resolve, reject) => {
        let text = '';
        info.on('data', (chunk: Buffer) => {
          text += chunk.toString();
          const pid = /"child-pid"\s*:\s*(\d+)/.exec(text)?.[1];
          if (pid) resolve(Number(pid));
        });
        info.on('end', () => reject(new Error('bubblewrap said no child pid')));
        void this.exited.then(() => reject(new Error('the sandbox exited first')));
      });
      this.link = await OutboundLink.attach(childPid, outbound);
      if (this.child.exitCode !== null || this.child.signalCode !== null) return this.link.close();
      block.end('go');
    } catch (error) {
      onLine({ stream: 'stderr', text: `outbound network not set up: ${(error as Error).message}`, truncated: false });
      void this.stop();
    }
  }

  /**
   * Resolves with the HTTP status of GET `path` through the socket once the
   * app answers, or null when it has not within `timeoutMs` or has exited.
   */
  async waitHealthy(path: string, timeoutMs: number): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline && !exited) {
      if (existsSync(this.socketPath)) {
        const status = await this.probe(path, Math.min(2000, Math.max(1, deadline - Date.now()))).catch(() => null);
        if (status !== null) return status;
      }
      await sleep(50);
    }
    return null;
  }

  /** The proxy sends a request in: call the returned function when its answer is done. */
  enter(): () => void {
    this.inFlight++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.inFlight--;
      if (this.inFlight === 0) this.onIdle?.();
    };
  }

  /** Waits until no request is inside (at most `graceMs`), then stops. */
  async drainThenStop(graceMs: number): Promise<AppExit> {
    if (this.inFlight > 0) {
      await Promise.race([new Promise<void>((resolve) => (this.onIdle = resolve)), sleep(graceMs), this.exited]);
    }
    return this.stop();
  }

  /** Kills the sandbox's processes; resolves once they are gone. */
  async stop(): Promise<AppExit> {
    const pid = this.child.pid;
    if (pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return this.exited;
    // The namespace's processes die with bubblewrap, but a moment after it: wait for them too.
    const tree = (await processTrees([pid])).get(pid) ?? [];
    this.child.kill('SIGKILL');
    const exit = await this.exited;
    // Exited is enough: an orphan is reaped by the host's init, which may take its time.
    for (let waited = 0; waited < 2000; waited += 10) {
      const stats = await Promise.all(tree.map((member) => readStat(member)));
      if (stats.every((stat) => !stat || stat.exited)) break;
      await sleep(10);
    }
    return exit;
  }

  /** One GET through the socket: its status. */
  private probe(path: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path, method: 'GET', timeout: timeoutMs, headers: { host: 'localhost' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end();
    });
  }
}

/**
 * A shell that writes its own pid into each cgroup.procs file, then execs the
 * rest of its arguments: so the sandbox is inside its cgroups before any of
 * its processes exists (a move after the start could miss a child forked first).
 */
function enterCgroupsThen(procsFiles: string[]): string[] {
  const script = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; exec "$@"';
  return ['-c', script, 'sh', String(procsFiles.length), ...procsFiles];
}

/** Drops from root to `uid` (and its gid, no supplementary groups) before bubblewrap starts. */
function asUid(uid: number | undefined): string[] {
  return uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--'];
}

/**
 * Backpressure on an app's output: while `congested()`, its pipes are not read
 * until `drained()` resolves (which must not wait for ever: an outage lets the
 * app go on).
 */
export interface OutputPressure {
  congested(): boolean;
  drained(): Promise<void>;
}

/**
 * Calls `onLine` for each line of a stream; a line over MAX_LINE_BYTES is cut
 * there (the rest of it is dropped) and flagged. A flooding app sends
 * thousands of lines a chunk: each is decoded straight from the chunk by its
 * offsets (no Buffer view per line), into a string of its own — not a slice
 * of one decoded chunk, which would keep the whole chunk alive as long as any
 * of its lines is queued.
 */
function splitLines(stream: NodeJS.ReadableStream, name: OutputLine['stream'], onLine: (line: OutputLine) => void, pressure?: OutputPressure): void {
  let pending: Buffer = Buffer.alloc(0);
  let skipping = false;
  let paused = false;
  stream.on('data', (chunk: Buffer) => {
    // Not read on while the lines cannot be stored as fast: the pipe fills, and the app's writes wait (as with Docker's blocking log mode).
    if (pressure && !paused && pressure.congested()) {
      paused = true;
      stream.pause();
      void pressure.drained().then(() => {
        paused = false;
        stream.resume();
      });
    }
    const data: Buffer = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const newline = data.indexOf(10, start);
      if (newline === -1) break;
      const length = newline - start;
      if (!skipping) onLine({ stream: name, text: data.toString('utf8', start, start + Math.min(length, MAX_LINE_BYTES)), truncated: length > MAX_LINE_BYTES });
      skipping = false;
      start = newline + 1;
    }
    if (data.length - start > MAX_LINE_BYTES) {
      if (!skipping) onLine({ stream: name, text: data.toString('utf8', start, start + MAX_LINE_BYTES), truncated: true });
      skipping = true;
      pending = Buffer.alloc(0);
    } else {
      // A copy of the rest: a view would keep the whole chunk.
      pending = start === data.length ? Buffer.alloc(0) : Buffer.from(data.subarray(start));
    }
  });
  stream.on('end', () => {
    if (pending.length && !skipping) onLine({ stream: name, text: pending.toString('utf8'), truncated: false });
  });
}
