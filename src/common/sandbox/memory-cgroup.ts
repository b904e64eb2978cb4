import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Memory limits with the kernel's memory controller: one cgroup per sandbox,
 * so the limit covers the whole process tree (forks, threads, memory outside
 * V8's heap) exactly, and an OOM kill is counted. Works with cgroup v1 (a
 * writable `memory` hierarchy) and v2 (a writable subtree with the memory
 * controller); without either, the launcher's own tree watch is the fallback.
 */
export type CgroupKind = 'cgroup-v1' | 'cgroup-v2';

export interface MemoryCgroup {
  /**
   * Moves these processes in (their later children are born inside). Async:
   * the kernel's first move into a cgroup can wait ~15 ms for an RCU grace period.
   */
  adopt(pids: number[]): Promise<void>;
  /** Its directory. */
  readonly path: string;
  /** Where a process writes its own pid to move itself in (before it execs what must run limited). */
  readonly procsFile: string;
  /** The processes in it now. */
  members(): Set<number>;
  /** The memory its processes use now (the kernel's count, page cache included). */
  usedBytes(): number;
  setLimit(bytes: number): void;
  /**
   * Whether the kernel killed a process in it for want of memory since the
   * last time this was asked (asked after every run, and nothing but a run's
   * code uses memory in it between runs).
   */
  oomKilledSinceAsked(): boolean;
  remove(): Promise<void>;
}

/** Numbers the cgroups this process makes: one count for the whole process, since several apps in one process (tests) share its pid. */
let nextCgroup = 0;

/** The directory each kind of sandbox's cgroups are made in (runs, deployed apps). */
export type CgroupBase = 'coderunner-sandboxes' | 'coderunner-apps';

export class MemoryCgroups {
  private constructor(
    readonly kind: CgroupKind,
    private readonly base: string,
  ) {}

  /** The controller this machine lets us use, or undefined (the fallback applies). */
  static async detect(baseName: CgroupBase = 'coderunner-sandboxes'): Promise<MemoryCgroups | undefined> {
    for (const find of [v2Base, v1Base]) {
      try {
        const candidate = find(baseName);
        if (!candidate) continue;
        mkdirSync(candidate.base, { recursive: true });
        if (candidate.kind === 'cgroup-v2') writeFileSync(join(candidate.base, 'cgroup.subtree_control'), '+memory');
        const groups = new MemoryCgroups(candidate.kind, candidate.base);
        await groups.removeLeftovers();
        await groups.create().remove();
        return groups;
      } catch {
        // Not writable or no memory controller here: try the next, else none.
      }
    }
    return undefined;
  }

  /** A new, empty cgroup. */
  create(): MemoryCgroup {
    const path = join(this.base, `s${process.pid}-${nextCgroup++}`);
    mkdirSync(path);
    const procsFile = join(path, 'cgroup.procs');
    const usageFile = join(path, this.kind === 'cgroup-v1' ? 'memory.usage_in_bytes' : 'memory.current');
    const v1 = this.kind === 'cgroup-v1';
    if (!v1) {
      writeIfExists(join(path, 'memory.swap.max'), '0');
      // On OOM, kill the whole sandbox rather than its largest process.
      writeIfExists(join(path, 'memory.oom.group'), '1');
    }
    let limit: number | undefined;
    const events = join(path, v1 ? 'memory.oom_control' : 'memory.events');
    let oomKills = 0;
    return {
      adopt: async (pids) => {
        for (const pid of pids) {
          // A process that is already gone needs no limit.
          await writeFile(procsFile, String(pid)).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ESRCH') throw error;
          });
        }
      },
      path,
      procsFile,
      members: () => new Set(readFileSync(procsFile, 'utf8').split('\n').filter(Boolean).map(Number)),
      usedBytes: () => Number(readFileSync(usageFile, 'utf8')),
      setLimit: (bytes) => {
        if (bytes === limit) return;
        const raising = limit !== undefined && bytes > limit;
        limit = bytes;
        if (v1) {
          // v1 refuses (EINVAL) a memory limit above the memory+swap limit: a
          // cgroup reused with a higher limit than its last run's raises memsw first.
          const memory = () => writeFileSync(join(path, 'memory.limit_in_bytes'), String(bytes));
          const memoryAndSwap = () => writeIfExists(join(path, 'memory.memsw.limit_in_bytes'), String(bytes));
          if (raising) {
            memoryAndSwap();
            memory();
          } else {
            memory();
            memoryAndSwap();
          }
        } else {
          writeFileSync(join(path, 'memory.max'), String(bytes));
        }
      },
      oomKilledSinceAsked: () => {
        const before = oomKills;
        oomKills = Number(/^oom_kill (\d+)$/m.exec(readFileSync(events, 'utf8'))?.[1] ?? 0);
        return oomKills > before;
      },
      remove: () => removeCgroup(path),
    };
  }

  /** Sandboxes of an earlier, crashed process. */
  private async removeLeftovers(): Promise<void> {
    await removeLeftovers(this.base);
  }
}

/** Removes the cgroups in `base` made by a process that is gone (named s<pid>-<n>). */
export async function removeLeftovers(base: string): Promise<void> {
  for (const name of readdirSync(base)) {
    const owner = /^s(\d+)-\d+$/.exec(name)?.[1];
    if (owner && !alive(Number(owner))) await removeCgroup(join(base, name)).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function writeIfExists(file: string, value: string): void {
  if (existsSync(file)) writeFileSync(file, value);
}

/** An emptied cgroup can be removed once its last process is gone, which can take a moment. */
export async function removeCgroup(path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(path);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (attempt >= 100) throw error;
      await sleep(5);
    }
  }
}

function ownCgroup(controller: string): string | undefined {
  const lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  for (const line of lines) {
    const [, controllers, path] = line.split(':');
    if (controllers === controller || controllers?.split(',').includes(controller)) return path;
  }
  return undefined;
}

function v1Base(baseName: CgroupBase): { kind: CgroupKind; base: string } | undefined {
  const mount = '/sys/fs/cgroup/memory';
  if (!existsSync(join(mount, 'memory.limit_in_bytes'))) return undefined;
  return { kind: 'cgroup-v1', base: join(mount, baseName) };
}

/** Where v2 cgroups with `controller` can be made beside our own, or undefined. */
export function v2Parent(controller: string): string | undefined {
  const mount = '/sys/fs/cgroup';
  if (!existsSync(join(mount, 'cgroup.controllers'))) return undefined;
  // Beside our own cgroup (v2 allows processes only in leaves), and only where the
  // parent hands the controller down.
  const own = ownCgroup('');
  if (own === undefined) return undefined;
  const parent = join(mount, own, '..');
  const controllers = readFileSync(join(parent, 'cgroup.subtree_control'), 'utf8');
  return controllers.split(/\s+/).includes(controller) ? parent : undefined;
}

function v2Base(baseName: CgroupBase): { kind: CgroupKind; base: string } | undefined {
  const parent = v2Parent('memory');
  return parent === undefined ? undefined : { kind: 'cgroup-v2', base: join(parent, baseName) };
}
