import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';
import { marshal, Marshallable } from './marshal';
import { BOOTSTRAP, LAUNCHER_SOURCES, PROTOCOL } from './python-runtime';

export type Language = 'python' | 'javascript';
export type OutputStream = 'stdout' | 'stderr';

export type RunStatus = 'success' | 'error' | 'timeout' | 'memory_limit' | 'output_limit' | 'killed' | 'internal_error';

/** The limits one run gets (already resolved from the plan and the request). */
export interface RunLimits {
  wallMs: number;
  memoryMb: number;
  processes: number;
  fileSizeBytes: number;
  openFiles: number;
  /** Each of stdout and stderr is kept up to this many bytes. */
  captureBytes: number;
  /** The run is stopped (`output_limit`) when stdout and stderr together exceed this. */
  totalOutputBytes: number;
}

export interface SandboxJob {
  language: Language;
  code: string;
  files: Array<{ path: string; content: string }>;
  args: string[];
  stdin: string;
  limits: RunLimits;
  /** For JavaScript: the node binary; Python runs in the launcher's own interpreter. */
  nodeBinary: string;
  /**
   * Whether the launcher polls the whole tree's memory (the fallback when no
   * memory cgroup holds the sandbox).
   */
  watchTreeMemory?: boolean;
  /** A Python environment to run in: its directory is mounted read-only and its interpreter runs the code. */
  environment?: SandboxEnvironment;
}

export interface SandboxEnvironment {
  /** Host path of the environment (a venv or conda env), mounted at the same path. */
  directory: string;
  /** Its interpreter (inside `directory`, or a link to the system's). */
  pythonBinary: string;
}

export interface RunOutcome {
  status: RunStatus;
  exitCode: number | null;
  signal: number | null;
  stdout: string;
  stderr: string;
  truncated: { stdout: boolean; stderr: boolean };
  wallMs: number;
  cpuMs: number;
  memoryKb: number;
  /** What went wrong inside the platform (internal_error only); never shown to callers. */
  internalError?: string;
}

export interface RunHooks {
  onOutput?: (stream: OutputStream, text: string) => void;
  /** Aborting kills the run; the outcome is `killed`. */
  signal?: AbortSignal;
}

export interface SandboxStartOptions {
  /** The interpreter that runs the launcher (and Python code). */
  pythonBinary: string;
  /** The launcher compiled by that interpreter (compileRuntime); without it the sandbox compiles its sources. */
  compiledLauncher?: Buffer;
  /** The full command line around the launcher: bwrap and its arguments, or nothing (SANDBOX=none). */
  wrap: (launcher: string[]) => string[];
  /** Host uid (and gid) to run as; only when the service runs as root. */
  uid?: number;
  /** Working directory on the host: only SANDBOX=none (in a sandbox, /work is its own tmpfs). */
  workdir?: string;
}

interface LauncherReport {
  exit_code: number | null;
  signal: number | null;
  cpu_ms: number;
  wall_ms: number;
  max_rss_kb: number;
  memory_error: boolean;
}

const SIGXCPU = 24;
const MAX_REPORT_BYTES = 64 * 1024;
/** Bytes before the report: the ready mark (the sandbox waits for its job), then the start mark (the job starts). */
const REPORT_MARKS = PROTOCOL.marks.ready.length + PROTOCOL.marks.start.length;
/** What a sandbox may hold beyond the program's limit: the launcher, an interpreter's baseline. */
export const SANDBOX_MEMORY_SLACK_MB = 64;
const ENTRY: Record<Language, string> = { python: 'main.py', javascript: 'main.js' };
const NODE_HEAP_EXHAUSTED = /JavaScript heap out of memory|Reached heap limit/;

/** One output stream: the first `cap` bytes kept, everything counted. */
class CappedOutput {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(private readonly cap: number) {}

  add(chunk: Buffer): void {
    const room = this.cap - this.kept;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
  }

  /** UTF-8 text; a character cut by the cap is dropped; NUL (which PostgreSQL text refuses) becomes U+FFFD. */
  text(): string {
    const decoder = new StringDecoder('utf8');
    return decoder.write(Buffer.concat(this.chunks)).replace(/\0/g, '\uFFFD');
  }
}

/**
 * How the service reaches a sandbox's launcher: its stdin, stdout, stderr, job
 * (fd 3) and report (fd 4), in fd order (PROTOCOL.fds). A bubblewrap process of
 * its own (SpawnedLauncher), or a sandbox a zygote cloned, whose pipes the
 * zygote relays (zygote.ts).
 */
export interface LauncherProcess {
  readonly stdio: [Writable, Readable, Readable, Writable, Readable];
  /** Resolves once every process of the sandbox is gone and its output has been read. */
  readonly closed: Promise<void>;
  /** False once it exited or could not start. */
  readonly alive: boolean;
  readonly error?: Error;
  /** Kills every process of the sandbox. */
  kill(): void;
  /** Host pids of its processes (to move them into a memory cgroup); empty when they are not the service's to move. */
  processIds(): number[];
}

/** A process the service spawned with the five launcher pipes, in its own process group. */
export class SpawnedLauncher implements LauncherProcess {
  private readonly child: ChildProcess;
  readonly closed: Promise<void>;
  error?: Error;

  constructor(command: string[], { uid, workdir }: { uid?: number; workdir?: string }) {
    const [binary, ...args] = command;
    this.child = spawn(binary, args, {
      stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'],
      env: { PATH: '/usr/bin:/bin' },
      // Its own process group, so a kill reaches bwrap (or, unsandboxed, the launcher's group).
      detached: true,
      ...(uid === undefined ? {} : { uid, gid: uid }),
      ...(workdir === undefined ? {} : { cwd: workdir }),
    });
    this.child.on('error', (error) => (this.error = error));
    this.closed = new Promise((resolve) => this.child.once('close', () => resolve()));
    // Writes to a process that already died must not crash the service.
    for (const stream of this.child.stdio) stream?.on('error', () => undefined);
  }

  get stdio(): LauncherProcess['stdio'] {
    return this.child.stdio as LauncherProcess['stdio'];
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && !this.error;
  }

  kill(): void {
    const pid = this.child.pid;
    if (pid === undefined || !this.alive) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }

  /**
   * The host pids of the process and its descendants (for a bubblewrap sandbox:
   * bwrap, its pid 1 and the launcher, before a job), to move them into a
   * memory cgroup once they exist, rather than spawning inside it (namespace
   * set-up charged to a memory cgroup costs ~10 ms more per sandbox).
   */
  processIds(): number[] {
    const found: number[] = [];
    const visit = (pid: number) => {
      found.push(pid);
      let children = '';
      try {
        children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8');
      } catch {
        return;
      }
      for (const child of children.split(' ').filter(Boolean)) visit(Number(child));
    };
    if (this.child.pid !== undefined) visit(this.child.pid);
    return found;
  }
}

/**
 * One sandbox with the launcher inside, started ahead of its job (so a pool can
 * keep some warm) and used for exactly one run, then gone.
 */
export class Sandbox {
  private readonly exited: Promise<void>;
  /** Resolves once the launcher has started and waits for its job (its first byte on fd 4). */
  readonly launched: Promise<void>;
  private readonly reportChunks: Buffer[] = [];
  private reportBytes = 0;
  private used = false;

  constructor(private readonly process: LauncherProcess, private readonly workdir = '/work') {
    this.exited = process.closed;
    // fd 4: the launcher's "ready" byte (R), its "the job starts" byte (S), then
    // its report. The report is a few hundred bytes: never keep more, whoever
    // writes to it.
    const report = process.stdio[4];
    this.launched = new Promise((resolve) => {
      report.on('data', (chunk: Buffer) => {
        resolve();
        this.reportBytes += chunk.length;
        if (this.reportBytes <= MAX_REPORT_BYTES) this.reportChunks.push(chunk);
      });
      this.exited.then(() => resolve());
    });
  }

  /** A sandbox of its own: bubblewrap (or nothing, SANDBOX=none) around the launcher (python-runtime.ts). */
  static start(options: SandboxStartOptions): Sandbox {
    const launcher = [options.pythonBinary, '-I', '-c', BOOTSTRAP];
    const process = new SpawnedLauncher(options.wrap(launcher), { uid: options.uid, workdir: options.workdir });
    // The launcher, ahead of the job; a few tens of KiB: the pipe takes them without waiting for the reader.
    process.stdio[3].write(options.compiledLauncher ?? LAUNCHER_SOURCES);
    return new Sandbox(process, options.workdir);
  }

  /** See SpawnedLauncher.processIds. */
  processIds(): number[] {
    return this.process.processIds();
  }

  /** Whether its job ever started: if not, no code of it can have run. */
  get started(): boolean {
    return this.reportBytes >= REPORT_MARKS;
  }

  /** Whether it is still waiting for a job (false once it died or ran one). */
  get ready(): boolean {
    return !this.used && this.process.alive;
  }

  /** Kills the whole sandbox (for bubblewrap, --die-with-parent takes the namespace down with it). */
  destroy(): Promise<void> {
    this.kill();
    return this.exited;
  }

  run(job: SandboxJob, hooks: RunHooks = {}): Promise<RunOutcome> {
    if (this.used) throw new Error('a sandbox serves exactly one run');
    this.used = true;
    const { limits } = job;
    const stdout = new CappedOutput(limits.captureBytes);
    const stderr = new CappedOutput(limits.captureBytes);
    let total = 0;
    let verdict: RunStatus | undefined;
    const started = process.hrtime.bigint();

    const stop = (status: RunStatus) => {
      verdict ??= status;
      this.kill();
    };
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const collect = (name: OutputStream, into: CappedOutput) => (chunk: Buffer) => {
      total += chunk.length;
      into.add(chunk);
      if (hooks.onOutput && !into.truncated) hooks.onOutput(name, decoders[name].write(chunk));
      if (total > limits.totalOutputBytes) stop('output_limit');
    };
    const [stdin, out, err, control] = this.process.stdio;
    out.on('data', collect('stdout', stdout));
    err.on('data', collect('stderr', stderr));

    const timer = setTimeout(() => stop('timeout'), limits.wallMs);
    const onAbort = () => stop('killed');
    if (hooks.signal?.aborted) onAbort();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });

    const encoded = marshal(this.launcherJob(job));
    const length = Buffer.alloc(4);
    length.writeUInt32LE(encoded.length);
    control.end(Buffer.concat([length, encoded]));
    stdin.end(job.stdin);

    return this.exited.then(() => {
      clearTimeout(timer);
      hooks.signal?.removeEventListener('abort', onAbort);
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      // Without the leading "ready" and "started" bytes.
      const parsed = this.reportBytes <= MAX_REPORT_BYTES ? parseReport(Buffer.concat(this.reportChunks).subarray(REPORT_MARKS).toString()) : undefined;
      const outcome: RunOutcome = {
        status: 'success',
        exitCode: parsed?.exit_code ?? null,
        signal: parsed?.signal ?? null,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: { stdout: stdout.truncated, stderr: stderr.truncated },
        wallMs: Math.round(parsed?.wall_ms ?? wallMs),
        cpuMs: parsed?.cpu_ms ?? 0,
        memoryKb: parsed?.max_rss_kb ?? 0,
      };
      outcome.status = verdict ?? this.judge(job, parsed, outcome);
      if (outcome.status === 'internal_error') {
        // What bwrap or the launcher printed is about the platform, not the program: logged, never shown.
        outcome.internalError = this.process.error?.message ?? `the launcher gave no report (${outcome.stderr.slice(-500)})`;
        outcome.stdout = '';
        outcome.stderr = '';
      }
      return outcome;
    });
  }

  private judge(job: SandboxJob, report: LauncherReport | undefined, outcome: RunOutcome): RunStatus {
    if (!report) return 'internal_error';
    if (report.memory_error) return 'memory_limit';
    if (job.language === 'javascript' && report.exit_code !== 0 && NODE_HEAP_EXHAUSTED.test(outcome.stderr)) return 'memory_limit';
    if (report.signal === SIGXCPU) return 'timeout';
    return report.exit_code === 0 ? 'success' : 'error';
  }

  private launcherJob(job: SandboxJob): Marshallable {
    const { limits } = job;
    return {
      runtime: job.language,
      workdir: this.workdir,
      code: job.code,
      files: job.files,
      args: job.args,
      entry: ENTRY[job.language],
      interpreter: job.nodeBinary,
      interpreter_args: job.language === 'javascript' ? [`--max-old-space-size=${limits.memoryMb}`] : [],
      limits: {
        cpu_seconds: Math.max(1, Math.ceil(limits.wallMs / 1000)),
        processes: limits.processes,
        file_size_kb: Math.ceil(limits.fileSizeBytes / 1024),
        open_files: limits.openFiles,
        // V8 reserves far more address space than it uses, so only Python gets RLIMIT_AS.
        address_space_mb: job.language === 'python' ? limits.memoryMb : null,
        // All processes of the run together, resident (watched by the launcher): the limit plus the runtime's own share.
        tree_memory_mb: job.watchTreeMemory === false ? null : limits.memoryMb + SANDBOX_MEMORY_SLACK_MB,
      },
    };
  }

  private kill(): void {
    this.process.kill();
  }
}

/** The outcome of a run the platform could not carry out; `message` is logged, never shown. */
export function internalErrorOutcome(message: string): RunOutcome {
  return {
    status: 'internal_error',
    exitCode: null,
    signal: null,
    stdout: '',
    stderr: '',
    truncated: { stdout: false, stderr: false },
    wallMs: 0,
    cpuMs: 0,
    memoryKb: 0,
    internalError: message,
  };
}

function parseReport(text: string): LauncherReport | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as LauncherReport;
  } catch {
    return undefined;
  }
}
