import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { AppConfig } from '../../../config/app-config';
import { LAUNCHER_COMPILER, LAUNCHER_SOURCE } from './launcher.source';
import { MemoryCgroup, MemoryCgroups } from './memory-cgroup';
import { Language, RunHooks, RunOutcome, Sandbox, SANDBOX_MEMORY_SLACK_MB, SandboxEnvironment, SandboxJob } from './sandbox';
import { bwrapArgs, readSandboxLayout, SandboxLayout } from './sandbox-layout';
import { Zygote } from './zygote';
import { ZYGOTE_SOURCE } from './zygote.source';

const run = promisify(execFile);

export interface RuntimeVersion {
  language: Language;
  version: string;
}

/** How code is isolated on this machine; shown by /runtimes and /health. */
export interface SandboxStatus {
  mechanism: 'bwrap' | 'none' | 'unavailable';
  /**
   * How a run's memory is limited: a memory cgroup per sandbox (exact, whole
   * tree), or rlimits (Python's address space, V8's heap) plus the launcher's
   * polling of the tree's resident memory.
   */
  memory?: 'cgroup-v1' | 'cgroup-v2' | 'rlimit+watch';
  /** Why it is unavailable, or the warning for `none`. */
  message?: string;
}

export type ExecutionOptions = AppConfig['execution'];

/** One zygote and what it holds: at most one sandbox at a time (prepared or running), on its own uid. */
interface ZygoteSlot {
  zygote: Zygote;
  uid?: number;
  cgroup?: MemoryCgroup;
  /** In its memory cgroup and ready to clone. */
  started: boolean;
  busy: boolean;
  /** A sandbox cloned ahead of its job (the warm pool). */
  prepared?: Sandbox;
}

/**
 * Runs jobs in sandboxes: one per run, each with its own host uid (so per-uid
 * limits such as RLIMIT_NPROC count that run alone), taken from a small pool of
 * pre-started ones when there is one. A used sandbox is destroyed, never reused.
 * It lives in the sandbox host process (sandbox-host.ts), so the many process
 * spawns never block the API's event loop.
 *
 * With zygotes (the default), sandboxes for the configured interpreter are
 * cloned by one of a few long-lived zygotes (zygote.source.ts), each on its own
 * uid and memory cgroup and serving one run at a time; runs in an environment
 * (its own interpreter) and machines where zygotes cannot start get a
 * bubblewrap sandbox and an interpreter of their own.
 */
export class SandboxFleet {
  private layout?: SandboxLayout;
  private statusValue: SandboxStatus = { mechanism: 'unavailable', message: 'not checked yet' };
  private versions: RuntimeVersion[] = [];
  /** The launcher compiled by PYTHON_BIN (environments' interpreters compile it themselves, in their sandbox). */
  private compiledLauncher?: Buffer;
  private compiledZygote?: Buffer;
  private readonly slots: ZygoteSlot[] = [];
  private readonly warm = new Map<Language, Sandbox[]>([
    ['python', []],
    ['javascript', []],
  ]);
  private readonly freeUids: number[] = [];
  private readonly uidOf = new Map<Sandbox, number>();
  /** Each sandbox's memory cgroup, once its processes have been moved in. */
  private readonly cgroupOf = new Map<Sandbox, Promise<MemoryCgroup>>();
  /**
   * One memory cgroup per sandbox uid, made once and reused: creating and
   * removing a memory cgroup per run costs the kernel several ms each.
   */
  private readonly cgroupOfUid = new Map<number, MemoryCgroup>();
  private cgroups?: MemoryCgroups;
  /** Sandboxes being torn down (stop() waits for them). */
  private readonly retiring = new Set<Promise<void>>();
  private stopped = false;
  /** Sandboxes switch to their own uid only when the service may (it runs as root). */
  private readonly switchesUid = process.getuid?.() === 0;

  constructor(
    private readonly options: ExecutionOptions,
    private readonly warn: (message: string) => void,
  ) {
    if (this.switchesUid) {
      const count = Math.max(64, (options.concurrency + options.warmPoolSize) * 4);
      for (let i = 0; i < count; i++) this.freeUids.push(options.uidBase + i);
    }
  }

  get status(): SandboxStatus {
    return this.statusValue;
  }

  get runtimes(): RuntimeVersion[] {
    return this.versions;
  }

  async start(): Promise<void> {
    const execution = this.options;
    this.versions = await readVersions(execution.pythonBinary, execution.nodeBinary);
    if (execution.sandbox === 'none') {
      this.statusValue = { mechanism: 'none', message: 'SANDBOX=none: code runs UNSANDBOXED on this host. Development only.' };
      this.warn(`!!! ${this.statusValue.message} !!!`);
      return;
    }
    this.layout = readSandboxLayout([execution.pythonBinary, execution.nodeBinary]);
    [this.compiledLauncher, this.compiledZygote] = await Promise.all(
      [LAUNCHER_SOURCE, ZYGOTE_SOURCE].map((source) =>
        compileLauncher(execution.pythonBinary, source).catch((error: Error) => {
          this.warn(`could not compile the sandbox launcher ahead (${error.message}); each sandbox starts its own interpreter and compiles it`);
          return undefined;
        }),
      ),
    );
    // Memory cgroups need root (or a delegated subtree); without them the fallback applies.
    this.cgroups = this.switchesUid && execution.memoryCgroup ? await MemoryCgroups.detect() : undefined;
    if (this.cgroups) for (const uid of this.freeUids) this.cgroupOfUid.set(uid, this.cgroups.create());
    this.statusValue = await this.probe();
    if (this.statusValue.mechanism === 'bwrap') this.statusValue.memory = this.cgroups?.kind ?? 'rlimit+watch';
    if (this.statusValue.mechanism === 'unavailable') {
      this.warn(`Code execution is unavailable: ${this.statusValue.message}`);
      return;
    }
    if (execution.zygote && this.compiledZygote) await this.startZygotes();
    this.refill();
  }

  /**
   * Runs one job in a fresh sandbox, then destroys it and tops the warm pool up.
   * A sandbox that died before its job started (its zygote was killed, say)
   * ran nothing of the job, so the job gets another: up to once per zygote,
   * and once more. A zygote that died takes its sandboxes with it and is not
   * asked again, so even when every zygote died at once a run gets a sandbox
   * in the end (a new zygote's, or one of its own).
   */
  async run(job: SandboxJob, hooks: RunHooks): Promise<RunOutcome> {
    const tries = Math.max(2, this.slots.length + 1);
    for (let attempt = 1; ; attempt++) {
      const { outcome, started } = await this.runOnce(job, hooks);
      if (outcome.status !== 'internal_error' || started || hooks.signal?.aborted || attempt === tries) return outcome;
      this.warn(`a sandbox died before its job started (${outcome.internalError}); the run gets another one`);
    }
  }

  private async runOnce(job: SandboxJob, hooks: RunHooks): Promise<{ outcome: RunOutcome; started: boolean }> {
    const { sandbox, release } = await this.acquire(job.language, job.environment);
    try {
      const cgroup = await this.cgroupOf.get(sandbox);
      cgroup?.setLimit((job.limits.memoryMb + SANDBOX_MEMORY_SLACK_MB) * 1024 * 1024);
      const outcome = await sandbox.run({ ...job, watchTreeMemory: !cgroup }, hooks);
      // The kernel killed part of the tree for want of memory: that is the verdict, whatever the exit looked like.
      if (cgroup?.oomKilledSinceAsked() && ['success', 'error'].includes(outcome.status)) outcome.status = 'memory_limit';
      return { outcome, started: sandbox.started };
    } finally {
      // After the outcome is on its way: a spawn blocks this process for a few ms.
      void release().then(() => setImmediate(() => this.refill()));
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const idle = [...this.warm.values()].flat();
    this.warm.forEach((list) => list.splice(0));
    await Promise.all(idle.map((sandbox) => this.retire(sandbox)));
    await Promise.all(this.slots.splice(0).map((slot) => slot.zygote.destroy()));
    await Promise.all(this.retiring);
    const cgroups = [...this.cgroupOfUid.values()];
    this.cgroupOfUid.clear();
    await Promise.all(cgroups.map((cgroup) => cgroup.remove().catch((error: Error) => this.warn(`could not remove a sandbox cgroup: ${error.message}`))));
  }

  /** A warm sandbox when there is one; runs in an environment always start their own. */
  private async acquire(language: Language, environment?: SandboxEnvironment): Promise<{ sandbox: Sandbox; release: () => Promise<void> }> {
    if (this.statusValue.mechanism === 'none') return this.unsandboxed(environment);
    if (environment) {
      const sandbox = this.spawn({ environment });
      return { sandbox, release: () => this.retire(sandbox) };
    }
    const slot = this.slots.find((candidate) => !candidate.busy && candidate.prepared?.ready) ?? this.slots.find((candidate) => !candidate.busy && candidate.started && candidate.zygote.alive);
    if (slot) return this.fromZygote(slot);
    const list = this.warm.get(language)!;
    let sandbox: Sandbox | undefined;
    while (list.length > 0 && !sandbox) {
      const candidate = list.shift()!;
      if (candidate.ready) sandbox = candidate;
      else this.retire(candidate);
    }
    sandbox ??= this.spawn();
    return { sandbox, release: () => this.retire(sandbox) };
  }

  /**
   * `background`: a warm-pool sandbox started after a run. It starts at a lower
   * CPU priority, so its interpreter start yields to the API, the database and
   * the runs in progress; the program it later runs inherits that priority.
   */
  private spawn({ background = false, environment }: { background?: boolean; environment?: SandboxEnvironment } = {}): Sandbox {
    const execution = this.options;
    const nice = background ? ['nice', '-n', '10'] : [];
    const extraReadOnly = environment ? [environment.directory] : [];
    const uid = this.freeUids.shift();
    if (this.switchesUid && uid === undefined) throw new Error('no free sandbox uid');
    const cgroup = uid === undefined ? undefined : this.cgroupOfUid.get(uid);
    const sandbox = Sandbox.start({
      wrap: (command) => [...nice, execution.bwrapBinary, ...bwrapArgs({ layout: this.layout!, extraReadOnly, tmpfsBytes: execution.tmpfsBytes, command })],
      pythonBinary: environment?.pythonBinary ?? execution.pythonBinary,
      compiledLauncher: environment ? undefined : this.compiledLauncher,
      uid,
    });
    if (uid !== undefined) this.uidOf.set(sandbox, uid);
    if (cgroup) {
      const adopted = adoptWhenStarted(sandbox, cgroup);
      // Awaited by the run; a sandbox destroyed unused must not leave a rejection unhandled.
      adopted.catch((error: Error) => this.warn(`could not move a sandbox into its memory cgroup: ${error.message}`));
      this.cgroupOf.set(sandbox, adopted);
    }
    return sandbox;
  }

  private retire(sandbox: Sandbox): Promise<void> {
    const retired = this.destroy(sandbox).finally(() => this.retiring.delete(retired));
    this.retiring.add(retired);
    return retired;
  }

  private async destroy(sandbox: Sandbox): Promise<void> {
    await sandbox.destroy();
    this.cgroupOf.delete(sandbox);
    const uid = this.uidOf.get(sandbox);
    this.uidOf.delete(sandbox);
    if (uid !== undefined) this.freeUids.push(uid);
  }

  private refill(): void {
    if (this.stopped || this.statusValue.mechanism !== 'bwrap') return;
    if (this.slots.length > 0) return this.refillZygotes();
    for (const list of this.warm.values()) {
      while (list.length < this.options.warmPoolSize) {
        if (this.switchesUid && this.freeUids.length === 0) break;
        list.push(this.spawn({ background: true }));
      }
    }
  }

  /** SANDBOX=none: the launcher runs directly in a temporary directory on the host. */
  private async unsandboxed(environment?: SandboxEnvironment): Promise<{ sandbox: Sandbox; release: () => Promise<void> }> {
    const workdir = await mkdtemp(join(tmpdir(), 'coderunner-run-'));
    const sandbox = Sandbox.start({
      wrap: (command) => command,
      pythonBinary: environment?.pythonBinary ?? this.options.pythonBinary,
      workdir,
    });
    return {
      sandbox,
      release: async () => {
        await sandbox.destroy();
        await rm(workdir, { recursive: true, force: true });
      },
    };
  }

  /** Runs one trivial program in a real sandbox: bwrap installed, user namespaces allowed. */
  private async probe(): Promise<SandboxStatus> {
    const sandbox = this.spawn();
    try {
      const failure = await this.tryRun(sandbox);
      if (!failure) return { mechanism: 'bwrap' };
      return { mechanism: 'unavailable', message: `bubblewrap (bwrap) could not start a sandbox: ${failure}. Install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces.` };
    } finally {
      await this.retire(sandbox);
    }
  }

  /** Runs print("ok") in the sandbox: undefined when it worked, else what went wrong. */
  private async tryRun(sandbox: Sandbox): Promise<string | undefined> {
    const outcome = await sandbox.run({
      language: 'python',
      code: 'print("ok")',
      files: [],
      args: [],
      stdin: '',
      nodeBinary: this.options.nodeBinary,
      limits: {
        wallMs: 10_000,
        memoryMb: 256,
        processes: this.options.processes,
        fileSizeBytes: 1024 * 1024,
        openFiles: 64,
        captureBytes: 4096,
        totalOutputBytes: 65_536,
      },
    });
    if (outcome.status === 'success' && outcome.stdout.trim() === 'ok') return undefined;
    return outcome.internalError ?? (outcome.stderr.trim().slice(0, 300) || outcome.status);
  }

  /**
   * One zygote per run that may be in progress at once, plus the warm pool's.
   * A first sandbox from them must run, or this machine gets sandboxes of their
   * own (a kernel may refuse what a zygote's sandboxes need, such as mounting a /proc).
   */
  private async startZygotes(): Promise<void> {
    const count = this.options.concurrency + Math.max(1, this.options.warmPoolSize);
    for (let i = 0; i < count && (!this.switchesUid || this.freeUids.length > 0); i++) {
      const uid = this.freeUids.shift();
      this.slots.push(this.startZygote(uid === undefined ? undefined : this.cgroupOfUid.get(uid), uid));
    }
    const failure = await this.tryZygote(this.slots[0]).catch((error: Error) => error.message);
    if (!failure) return;
    this.warn(`sandbox zygotes could not start (${failure}); each run gets a bubblewrap sandbox and interpreter of its own`);
    for (const slot of this.slots.splice(0)) {
      await slot.zygote.destroy();
      if (slot.uid !== undefined) this.freeUids.push(slot.uid);
    }
  }

  private startZygote(cgroup: MemoryCgroup | undefined, uid: number | undefined): ZygoteSlot {
    const execution = this.options;
    const zygote = new Zygote({
      wrap: (command) => [execution.bwrapBinary, ...bwrapArgs({ layout: this.layout!, tmpfsBytes: execution.tmpfsBytes, capabilities: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'], command })],
      pythonBinary: execution.pythonBinary,
      compiledZygote: this.compiledZygote!,
      tmpfsBytes: execution.tmpfsBytes,
      uid,
    });
    const slot: ZygoteSlot = { zygote, uid, cgroup, started: false, busy: false };
    // Into the memory cgroup once: every sandbox it clones is born there.
    void zygote.ready
      .then(() => cgroup?.adopt(zygote.processIds()))
      .then(() => (slot.started = true))
      .catch((error: Error) => {
        this.warn(`a sandbox zygote did not start: ${error.message}`);
        // Not left half-started: a later refill starts another.
        void zygote.destroy();
      });
    return slot;
  }

  private async tryZygote(slot: ZygoteSlot): Promise<string | undefined> {
    await slot.zygote.ready;
    const deadline = Date.now() + 10_000;
    while (!slot.started && slot.zygote.alive && Date.now() < deadline) await sleep(1);
    if (!slot.started) return 'it did not start';
    const sandbox = slot.zygote.startSandbox();
    try {
      return await this.tryRun(sandbox);
    } finally {
      await sandbox.destroy();
    }
  }

  /** The slot's prepared sandbox, or one cloned now; the slot is the run's until it is gone. */
  private fromZygote(slot: ZygoteSlot): { sandbox: Sandbox; release: () => Promise<void> } {
    slot.busy = true;
    const prepared = slot.prepared;
    slot.prepared = undefined;
    const sandbox = prepared?.ready ? prepared : slot.zygote.startSandbox();
    if (slot.cgroup) this.cgroupOf.set(sandbox, Promise.resolve(slot.cgroup));
    return {
      sandbox,
      release: async () => {
        await Promise.all([sandbox.destroy(), prepared?.destroy()]);
        this.cgroupOf.delete(sandbox);
        slot.busy = false;
      },
    };
  }

  /**
   * Keeps `warmPoolSize` sandboxes prepared on idle zygotes, and replaces a
   * zygote that died (its slot keeps its uid and memory cgroup).
   */
  private refillZygotes(): void {
    for (const [index, slot] of this.slots.entries()) {
      if (!slot.busy && !slot.zygote.alive) this.slots[index] = this.startZygote(slot.cgroup, slot.uid);
    }
    let prepared = this.slots.filter((slot) => slot.prepared?.ready).length;
    for (const slot of this.slots) {
      if (prepared >= this.options.warmPoolSize) return;
      if (slot.busy || !slot.started || slot.prepared?.ready) continue;
      slot.prepared = slot.zygote.startSandbox();
      prepared++;
    }
  }
}

/**
 * Moves a new sandbox's processes into its memory cgroup as soon as the
 * launcher process exists (bwrap, its pid 1, the launcher: three), so the move
 * overlaps the interpreter's start; the job is sent only after it. Spawning
 * inside the cgroup instead would charge namespace set-up to it, ~10 ms more.
 */
async function adoptWhenStarted(sandbox: Sandbox, cgroup: MemoryCgroup): Promise<MemoryCgroup> {
  const deadline = Date.now() + 5000;
  let pids = sandbox.processIds();
  while (pids.length < 3 && Date.now() < deadline && sandbox.ready) {
    await sleep(1);
    pids = sandbox.processIds();
  }
  await cgroup.adopt(pids);
  // The launcher forks the program's process before it reports that it started;
  // a fork that raced the move above left that process outside: move it too.
  await sandbox.launched;
  const inside = cgroup.members();
  const outside = sandbox.processIds().filter((pid) => !inside.has(pid));
  if (outside.length > 0) await cgroup.adopt(outside);
  return cgroup;
}

/**
 * The launcher as a marshalled code object, made by PYTHON_BIN itself (the
 * marshal format is its own). Only the configured interpreter runs on the host
 * this way, never an environment's.
 */
function compileLauncher(python: string, source: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', '-c', LAUNCHER_COMPILER], { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin' }, timeout: 10_000 });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(err.trim().slice(-300) || `exit ${code}`))));
    child.stdin.end(source);
  });
}

async function readVersions(python: string, node: string): Promise<RuntimeVersion[]> {
  const version = async (binary: string, args: string[]) => {
    try {
      const { stdout, stderr } = await run(binary, args, { timeout: 10_000 });
      return (stdout || stderr).trim().replace(/^Python\s+/, '').replace(/^v/, '');
    } catch {
      return 'unavailable';
    }
  };
  return [
    { language: 'python', version: await version(python, ['--version']) },
    { language: 'javascript', version: await version(node, ['--version']) },
  ];
}
