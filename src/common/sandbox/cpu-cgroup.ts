import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CgroupBase, MemoryCgroup, removeCgroup, removeLeftovers, v2Parent } from './memory-cgroup';

/** A process tree's CPU: its share when the CPU is contended, and a ceiling. */
export interface CpuLimits {
  /** Relative weight, 1–10000 (100 is the kernel's default for a cgroup). */
  weight: number;
  /** At most this many thousandths of one CPU, whatever is idle. */
  millicores: number;
}

export interface CpuCgroup {
  /** Its own cgroup.procs (cgroup v1, where CPU is a hierarchy of its own); undefined when it shares the memory cgroup. */
  readonly procsFile?: string;
  remove(): Promise<void>;
}

const PERIOD_US = 100_000;

/** Numbers the cgroups this process makes: one count for the whole process, since several apps in one process (tests) share its pid. */
let nextCgroup = 0;

/**
 * CPU limits with the kernel's CPU controller. On cgroup v2 a process is in
 * one cgroup for every controller, so the limits are written into its memory
 * cgroup; on v1 the CPU controller is a hierarchy of its own, with a cgroup per
 * tree beside the memory one. Without a writable controller there is no CPU
 * limit (the tree competes as any process does).
 */
export class CpuCgroups {
  private constructor(
    private readonly v1Base: string | undefined,
  ) {}

  /** The controller this machine lets us use beside `memoryBase` (the v2 directory MemoryCgroups made), or undefined. */
  static async detect(baseName: CgroupBase): Promise<CpuCgroups | undefined> {
    try {
      const parent = v2Parent('cpu');
      if (parent !== undefined) {
        const base = join(parent, baseName);
        if (!existsSync(base)) return undefined;
        writeFileSync(join(base, 'cgroup.subtree_control'), '+cpu');
        return new CpuCgroups(undefined);
      }
      const mount = '/sys/fs/cgroup/cpu';
      if (!existsSync(join(mount, 'cpu.shares'))) return undefined;
      const base = join(mount, baseName);
      mkdirSync(base, { recursive: true });
      await removeLeftovers(base);
      return new CpuCgroups(base);
    } catch {
      return undefined;
    }
  }

  /** Limits for a tree in `memory` (v2: written there; v1: a new cgroup of its own). */
  create(memory: MemoryCgroup | undefined, limits: CpuLimits): CpuCgroup | undefined {
    const quota = `${limits.millicores * (PERIOD_US / 1000)}`;
    if (this.v1Base === undefined) {
      if (!memory) return undefined;
      writeFileSync(join(memory.path, 'cpu.weight'), String(limits.weight));
      writeFileSync(join(memory.path, 'cpu.max'), `${quota} ${PERIOD_US}`);
      return { remove: async () => undefined };
    }
    const path = join(this.v1Base, `s${process.pid}-${nextCgroup++}`);
    mkdirSync(path);
    // v1 shares: 1024 is the default, as 100 is v2's weight.
    writeFileSync(join(path, 'cpu.shares'), String(Math.max(2, Math.round((limits.weight * 1024) / 100))));
    writeFileSync(join(path, 'cpu.cfs_period_us'), String(PERIOD_US));
    writeFileSync(join(path, 'cpu.cfs_quota_us'), quota);
    return { procsFile: join(path, 'cgroup.procs'), remove: () => removeCgroup(path) };
  }
}
