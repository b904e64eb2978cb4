import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../../../config/app-config';
import type { MemoryCgroup } from '../../../common/sandbox/memory-cgroup';
import { Sandbox, SandboxEnvironment } from './sandbox';
import { bwrapArgs, SandboxLayout } from '../../../common/sandbox/sandbox-layout';
import type { UidPool } from '../../../common/sandbox/uid-pool';

/** A sandbox given to one run, and how to give it back. */
export interface SandboxLease {
  sandbox: Sandbox;
  /** Its memory cgroup (once its processes are in it), if it has one. */
  cgroup?: MemoryCgroup | Promise<MemoryCgroup>;
  /** Destroys the sandbox and frees what it held; resolves once it is gone. */
  release: () => Promise<void>;
}

export interface SpawnerSettings {
  options: Pick<AppConfig['execution'], 'bwrapBinary' | 'pythonBinary' | 'tmpfsBytes'>;
  uids: UidPool;
  layout: SandboxLayout;
  /** The launcher compiled by PYTHON_BIN (environments' interpreters load its sources). */
  compiledLauncher?: Buffer;
  warn: (message: string) => void;
}

/**
 * Starts sandboxes of their own (bubblewrap and a new interpreter each), for
 * what zygotes do not serve: runs in an environment, the warm pool when there
 * are no zygotes, the start-up probe. Each gets a uid of its own and is moved
 * into that uid's memory cgroup once its processes exist; tearing it down gives
 * the uid back. Kept apart from the fleet because this bookkeeping (which uid,
 * which cgroup, which sandboxes are still dying) must stay exact for stop().
 */
export class SandboxSpawner {
  private readonly uidOf = new Map<Sandbox, number>();
  /** Each sandbox's memory cgroup, once its processes have been moved in. */
  private readonly cgroupOf = new Map<Sandbox, Promise<MemoryCgroup>>();
  /** Sandboxes being torn down (stopped() waits for them). */
  private readonly retiring = new Set<Promise<void>>();

  constructor(private readonly settings: SpawnerSettings) {}

  /**
   * `background`: a warm-pool sandbox started after a run. It starts at a lower
   * CPU priority, so its interpreter start yields to the API, the database and
   * the runs in progress; the program it later runs inherits that priority.
   */
  spawn({ background = false, environment }: { background?: boolean; environment?: SandboxEnvironment } = {}): Sandbox {
    const { options, uids, layout } = this.settings;
    const nice = background ? ['nice', '-n', '10'] : [];
    const extraReadOnly = environment ? [environment.directory] : [];
    const uid = uids.take();
    const cgroup = uids.cgroupOf(uid);
    const sandbox = Sandbox.start({
      wrap: (command) => [...nice, options.bwrapBinary, ...bwrapArgs({ layout, extraReadOnly, tmpfsBytes: options.tmpfsBytes, command })],
      pythonBinary: environment?.pythonBinary ?? options.pythonBinary,
      compiledLauncher: environment ? undefined : this.settings.compiledLauncher,
      uid,
    });
    if (uid !== undefined) this.uidOf.set(sandbox, uid);
    if (cgroup) {
      const adopted = adoptWhenStarted(sandbox, cgroup);
      // Awaited by the run; a sandbox destroyed unused must not leave a rejection unhandled.
      adopted.catch((error: Error) => this.settings.warn(`could not move a sandbox into its memory cgroup: ${error.message}`));
      this.cgroupOf.set(sandbox, adopted);
    }
    return sandbox;
  }

  lease(sandbox: Sandbox): SandboxLease {
    return { sandbox, cgroup: this.cgroupOf.get(sandbox), release: () => this.retire(sandbox) };
  }

  retire(sandbox: Sandbox): Promise<void> {
    const retired = this.destroy(sandbox).finally(() => this.retiring.delete(retired));
    this.retiring.add(retired);
    return retired;
  }

  /** Resolves once every sandbox being torn down is gone. */
  async stopped(): Promise<void> {
    await Promise.all(this.retiring);
  }

  private async destroy(sandbox: Sandbox): Promise<void> {
    await sandbox.destroy();
    this.cgroupOf.delete(sandbox);
    const uid = this.uidOf.get(sandbox);
    this.uidOf.delete(sandbox);
    this.settings.uids.give(uid);
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
