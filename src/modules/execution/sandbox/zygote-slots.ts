import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../../../config/app-config';
import type { MemoryCgroup } from '../../../common/sandbox/memory-cgroup';
import type { Sandbox } from './sandbox';
import { bwrapArgs, SandboxLayout } from '../../../common/sandbox/sandbox-layout';
import type { SandboxLease } from './sandbox-spawner';
import type { UidPool } from '../../../common/sandbox/uid-pool';
import { Zygote } from './zygote';

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

export interface ZygoteSettings {
  options: Pick<AppConfig['execution'], 'bwrapBinary' | 'pythonBinary' | 'tmpfsBytes' | 'concurrency' | 'warmPoolSize'>;
  uids: UidPool;
  layout: SandboxLayout;
  /** The zygote's runtime compiled by PYTHON_BIN. */
  compiledZygote: Buffer;
  warn: (message: string) => void;
}

/**
 * The zygotes (zygote.ts) and the sandbox each holds. A zygote serves one run
 * at a time, so there is one per run that may be in progress at once, plus the
 * warm pool's, each on a uid and memory cgroup of its own (its sandboxes are
 * born in that cgroup, and its uid's process limit counts one run). Kept apart
 * from the fleet because a slot's life (starting, prepared, busy, died and
 * replaced) is its own small state machine.
 */
export class ZygoteSlots {
  private readonly slots: ZygoteSlot[] = [];

  constructor(private readonly settings: ZygoteSettings) {}

  get size(): number {
    return this.slots.length;
  }

  /** Idle zygotes holding a sandbox ready for its job. */
  get prepared(): number {
    return this.slots.filter((slot) => !slot.busy && slot.prepared?.ready).length;
  }

  /**
   * Starts the zygotes. A first sandbox from them must run (`tryRun` answers
   * undefined), or this machine gets sandboxes of their own (a kernel may
   * refuse what a zygote's sandboxes need, such as mounting a /proc): then
   * every zygote is destroyed and this answers false.
   */
  async start(tryRun: (sandbox: Sandbox) => Promise<string | undefined>): Promise<boolean> {
    const { options, uids, warn } = this.settings;
    const count = options.concurrency + Math.max(1, options.warmPoolSize);
    for (let i = 0; i < count && uids.available; i++) {
      const uid = uids.take();
      this.slots.push(this.startZygote(uids.cgroupOf(uid), uid));
    }
    const failure = await this.tryZygote(this.slots[0], tryRun).catch((error: Error) => error.message);
    if (!failure) return true;
    warn(`sandbox zygotes could not start (${failure}); each run gets a bubblewrap sandbox and interpreter of its own`);
    for (const slot of this.slots.splice(0)) {
      await slot.zygote.destroy();
      uids.give(slot.uid);
    }
    return false;
  }

  /** An idle zygote's prepared sandbox, or one cloned now by an idle zygote; undefined when every zygote is busy. */
  acquire(): SandboxLease | undefined {
    const slot =
      this.slots.find((candidate) => !candidate.busy && candidate.prepared?.ready) ??
      this.slots.find((candidate) => !candidate.busy && candidate.started && candidate.zygote.alive);
    return slot && this.lease(slot);
  }

  /**
   * Keeps `warmPoolSize` sandboxes prepared on idle zygotes, and replaces a
   * zygote that died (its slot keeps its uid and memory cgroup).
   */
  refill(): void {
    for (const [index, slot] of this.slots.entries()) {
      if (!slot.busy && !slot.zygote.alive) this.slots[index] = this.startZygote(slot.cgroup, slot.uid);
    }
    let prepared = this.slots.filter((slot) => slot.prepared?.ready).length;
    for (const slot of this.slots) {
      if (prepared >= this.settings.options.warmPoolSize) return;
      if (slot.busy || !slot.started || slot.prepared?.ready) continue;
      slot.prepared = slot.zygote.startSandbox();
      prepared++;
    }
  }

  /** Kills every zygote, and with them every sandbox they made. */
  async stop(): Promise<void> {
    await Promise.all(this.slots.splice(0).map((slot) => slot.zygote.destroy()));
  }

  private startZygote(cgroup: MemoryCgroup | undefined, uid: number | undefined): ZygoteSlot {
    const { options, layout, compiledZygote, warn } = this.settings;
    const zygote = new Zygote({
      wrap: (command) => [options.bwrapBinary, ...bwrapArgs({ layout, tmpfsBytes: options.tmpfsBytes, capabilities: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'], command })],
      pythonBinary: options.pythonBinary,
      compiledZygote,
      tmpfsBytes: options.tmpfsBytes,
      uid,
    });
    const slot: ZygoteSlot = { zygote, uid, cgroup, started: false, busy: false };
    // Into the memory cgroup once: every sandbox it clones is born there.
    void zygote.ready
      .then(() => cgroup?.adopt(zygote.processIds()))
      .then(() => (slot.started = true))
      .catch((error: Error) => {
        warn(`a sandbox zygote did not start: ${error.message}`);
        // Not left half-started: a later refill starts another.
        void zygote.destroy();
      });
    return slot;
  }

  private async tryZygote(slot: ZygoteSlot, tryRun: (sandbox: Sandbox) => Promise<string | undefined>): Promise<string | undefined> {
    await slot.zygote.ready;
    const deadline = Date.now() + 10_000;
    while (!slot.started && slot.zygote.alive && Date.now() < deadline) await sleep(1);
    if (!slot.started) return 'it did not start';
    const sandbox = slot.zygote.startSandbox();
    try {
      return await tryRun(sandbox);
    } finally {
      await sandbox.destroy();
    }
  }

  /** The slot's prepared sandbox, or one cloned now; the slot is the run's until it is gone. */
  private lease(slot: ZygoteSlot): SandboxLease {
    slot.busy = true;
    const prepared = slot.prepared;
    slot.prepared = undefined;
    const sandbox = prepared?.ready ? prepared : slot.zygote.startSandbox();
    return {
      sandbox,
      cgroup: slot.cgroup,
      release: async () => {
        await Promise.all([sandbox.destroy(), prepared?.destroy()]);
        slot.busy = false;
      },
    };
  }
}
