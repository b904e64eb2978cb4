import type { MemoryCgroup, MemoryCgroups } from './memory-cgroup';

/**
 * Host uids for sandboxes and zygotes. When the service runs as root, each
 * sandbox (or zygote) runs as a uid of its own, one holder at a time, so
 * per-uid limits such as RLIMIT_NPROC count that run alone. Each uid keeps one
 * memory cgroup, made once and reused: creating and removing a memory cgroup
 * per run costs the kernel several ms each. Otherwise everything runs as the
 * service's uid and the pool hands out none.
 */
export class UidPool {
  private readonly free: number[] = [];
  private readonly cgroups = new Map<number, MemoryCgroup>();

  constructor(
    /** Whether sandboxes switch to uids of their own (the service runs as root). */
    readonly switchesUid: boolean,
    base: number,
    count: number,
  ) {
    if (switchesUid) for (let i = 0; i < count; i++) this.free.push(base + i);
  }

  /** Whether take() would succeed. */
  get available(): boolean {
    return !this.switchesUid || this.free.length > 0;
  }

  /** A free uid, or undefined when sandboxes do not switch uid; throws when every uid is in use. */
  take(): number | undefined {
    if (!this.switchesUid) return undefined;
    const uid = this.free.shift();
    if (uid === undefined) throw new Error('no free sandbox uid');
    return uid;
  }

  give(uid: number | undefined): void {
    if (uid !== undefined) this.free.push(uid);
  }

  cgroupOf(uid: number | undefined): MemoryCgroup | undefined {
    return uid === undefined ? undefined : this.cgroups.get(uid);
  }

  /** One memory cgroup per uid; called at start, while every uid is free. */
  createCgroups(groups: MemoryCgroups): void {
    for (const uid of this.free) this.cgroups.set(uid, groups.create());
  }

  async removeCgroups(warn: (message: string) => void): Promise<void> {
    const cgroups = [...this.cgroups.values()];
    this.cgroups.clear();
    await Promise.all(cgroups.map((cgroup) => cgroup.remove().catch((error: Error) => warn(`could not remove a sandbox cgroup: ${error.message}`))));
  }
}
