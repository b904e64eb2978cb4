import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AppConfig } from '../../../config/app-config';
import { succeeds } from '../../../common/process/succeeds';
import { MemoryCgroups } from '../../../common/sandbox/memory-cgroup';
import { compileRuntime, LAUNCHER_SOURCES, ZYGOTE_SOURCES } from './python-runtime';
import { Language, RunHooks, RunOutcome, Sandbox, SANDBOX_MEMORY_SLACK_MB, SandboxEnvironment, SandboxJob } from './sandbox';
import { readSandboxLayout } from '../../../common/sandbox/sandbox-layout';
import { SandboxLease, SandboxSpawner } from './sandbox-spawner';
import { UidPool } from '../../../common/sandbox/uid-pool';
import { WarmPool } from './warm-pool';
import { ZygoteSlots } from './zygote-slots';

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
  /** The system package this machine lacks, when that is why (`npm start` names it in one line). */
  missingPackage?: 'bubblewrap';
}

export type ExecutionOptions = AppConfig['execution'];

/**
 * Runs jobs in sandboxes: one per run, each with its own host uid (UidPool),
 * taken ready when one waits. A used sandbox is destroyed, never reused. It
 * lives in the sandbox host process (sandbox-host.ts), so the many process
 * spawns never block the API's event loop.
 *
 * With zygotes (the default), sandboxes for the configured interpreter are
 * cloned by one of a few long-lived zygotes (ZygoteSlots); runs in an
 * environment (its own interpreter) and machines where zygotes cannot start
 * get a bubblewrap sandbox and an interpreter of their own (SandboxSpawner,
 * started ahead by the WarmPool when there are no zygotes).
 */
export class SandboxFleet {
  private statusValue: SandboxStatus = { mechanism: 'unavailable', message: 'not checked yet' };
  private versions: RuntimeVersion[] = [];
  private readonly uids: UidPool;
  private readonly warmPool: WarmPool;
  private spawner?: SandboxSpawner;
  private zygotes?: ZygoteSlots;
  private stopped = false;

  constructor(
    private readonly options: ExecutionOptions,
    private readonly warn: (message: string) => void,
  ) {
    // Sandboxes switch to their own uid only when the service may (it runs as root).
    const count = Math.max(64, (options.concurrency + options.warmPoolSize) * 4);
    this.uids = new UidPool(process.getuid?.() === 0, options.uidBase, count);
    this.warmPool = new WarmPool(options.warmPoolSize);
  }

  get status(): SandboxStatus {
    return this.statusValue;
  }

  get runtimes(): RuntimeVersion[] {
    return this.versions;
  }

  /** Sandboxes ready for a run now (a zygote's prepared ones, or the warm pool's). */
  get warmSandboxes(): number {
    return this.zygotes ? this.zygotes.prepared : this.warmPool.ready;
  }

  async start(): Promise<void> {
    const execution = this.options;
    this.versions = await readVersions(execution.pythonBinary, execution.nodeBinary);
    if (execution.sandbox === 'none') {
      this.statusValue = { mechanism: 'none', message: 'SANDBOX=none: code runs UNSANDBOXED on this host. Development only.' };
      this.warn(`!!! ${this.statusValue.message} !!!`);
      return;
    }
    if (!(await succeeds(execution.bwrapBinary, ['--version']))) {
      this.statusValue = { mechanism: 'unavailable', missingPackage: 'bubblewrap', message: `bubblewrap is not installed (no ${execution.bwrapBinary} to run). Install it: apt-get install bubblewrap` };
      return;
    }
    const layout = readSandboxLayout([execution.pythonBinary, execution.nodeBinary]);
    const [compiledLauncher, compiledZygote] = await Promise.all(
      [LAUNCHER_SOURCES, ZYGOTE_SOURCES].map((sources) =>
        compileRuntime(execution.pythonBinary, sources).catch((error: Error) => {
          this.warn(`could not compile the sandbox launcher ahead (${error.message}); each sandbox starts its own interpreter and compiles it`);
          return undefined;
        }),
      ),
    );
    // Memory cgroups need root (or a delegated subtree); without them the fallback applies.
    const cgroups = this.uids.switchesUid && execution.memoryCgroup ? await MemoryCgroups.detect() : undefined;
    if (cgroups) this.uids.createCgroups(cgroups);
    this.spawner = new SandboxSpawner({ options: execution, uids: this.uids, layout, compiledLauncher, warn: this.warn });
    this.statusValue = await this.probe(this.spawner);
    if (this.statusValue.mechanism === 'bwrap') this.statusValue.memory = cgroups?.kind ?? 'rlimit+watch';
    if (this.statusValue.mechanism === 'unavailable') {
      // Installed but refused (user namespaces off, say). /health says it too.
      this.warn(`Code execution is unavailable: ${this.statusValue.message}`);
      return;
    }
    if (execution.zygote && compiledZygote) {
      const zygotes = new ZygoteSlots({ options: execution, uids: this.uids, layout, compiledZygote, warn: this.warn });
      if (await zygotes.start((sandbox) => this.tryRun(sandbox))) this.zygotes = zygotes;
    }
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
    const tries = Math.max(2, (this.zygotes?.size ?? 0) + 1);
    for (let attempt = 1; ; attempt++) {
      const { outcome, started } = await this.runOnce(job, hooks);
      if (outcome.status !== 'internal_error' || started || hooks.signal?.aborted || attempt === tries) return outcome;
      this.warn(`a sandbox died before its job started (${outcome.internalError}); the run gets another one`);
    }
  }

  private async runOnce(job: SandboxJob, hooks: RunHooks): Promise<{ outcome: RunOutcome; started: boolean }> {
    const { sandbox, cgroup: adopted, release } = await this.acquire(job.language, job.environment);
    try {
      const cgroup = await adopted;
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
    const spawner = this.spawner;
    await Promise.all(this.warmPool.drain().map((sandbox) => spawner?.retire(sandbox)));
    await this.zygotes?.stop();
    await spawner?.stopped();
    await this.uids.removeCgroups(this.warn);
  }

  /** A zygote's sandbox or a warm one when there is one; runs in an environment always start their own. */
  private async acquire(language: Language, environment?: SandboxEnvironment): Promise<SandboxLease> {
    if (this.statusValue.mechanism === 'none') return this.unsandboxed(environment);
    const spawner = this.spawner!;
    if (environment) return spawner.lease(spawner.spawn({ environment }));
    const fromZygote = this.zygotes?.acquire();
    if (fromZygote) return fromZygote;
    return spawner.lease(this.warmPool.take(language, (sandbox) => void spawner.retire(sandbox)) ?? spawner.spawn());
  }

  private refill(): void {
    if (this.stopped || this.statusValue.mechanism !== 'bwrap') return;
    if (this.zygotes) return this.zygotes.refill();
    const spawner = this.spawner!;
    this.warmPool.fill(() => (this.uids.available ? spawner.spawn({ background: true }) : undefined));
  }

  /** SANDBOX=none: the launcher runs directly in a temporary directory on the host. */
  private async unsandboxed(environment?: SandboxEnvironment): Promise<SandboxLease> {
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
  private async probe(spawner: SandboxSpawner): Promise<SandboxStatus> {
    const sandbox = spawner.spawn();
    try {
      const failure = await this.tryRun(sandbox);
      if (!failure) return { mechanism: 'bwrap' };
      return { mechanism: 'unavailable', message: `bubblewrap (bwrap) could not start a sandbox: ${failure}. Install bubblewrap (apt-get install bubblewrap) and allow unprivileged user namespaces.` };
    } finally {
      await spawner.retire(sandbox);
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
