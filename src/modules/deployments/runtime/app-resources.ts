import { chmodSync, chownSync, lchownSync, lstatSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { AppLogger } from '../../../common/logging/app-logger';
import { CpuCgroup, CpuCgroups } from '../../../common/sandbox/cpu-cgroup';
import { MemoryCgroup, MemoryCgroups } from '../../../common/sandbox/memory-cgroup';
import { UidPool } from '../../../common/sandbox/uid-pool';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { GetUserQuery } from '../../identity/queries/get-user.query';
import { GetPlanQuery } from '../../plans/queries/get-plan.query';

/** The plan whose app memory a deployment of a deleted owner gets. */
const SMALLEST_PLAN = 'free';

/** What one sandbox of an app holds while it lives: release() gives it back. */
export interface AppSlot {
  /** The host uid its processes run as (undefined when the service is not root). */
  uid?: number;
  /** The cgroup.procs files its first process moves itself into before anything else runs. */
  procsFiles: string[];
  memory?: MemoryCgroup;
  memoryBytes: number;
  /** Whether the kernel killed something in it for want of memory since last asked. */
  outOfMemory(): boolean;
  release(): Promise<void>;
}

/**
 * The host resources of deployed apps: a host uid of their own per sandbox
 * (when the service runs as root; from DEPLOY_UID_BASE, apart from the runs'
 * uids), a memory cgroup with the owner's plan's `deployment_memory_mb`, and a
 * CPU share and ceiling (DEPLOY_CPU_WEIGHT, DEPLOY_CPU_MILLICORES). Without
 * writable cgroups the app runs unlimited in memory and CPU (said at start).
 */
@Injectable()
export class AppResources {
  private controllers?: Promise<Controllers>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queries: QueryBus,
    private readonly logger: AppLogger,
  ) {}

  /** The memory the owner's plan gives one app of theirs. */
  async memoryBytesOf(ownerId: string): Promise<number> {
    const level = await this.queries.execute(new GetUserQuery(ownerId)).then((user) => user.level, () => SMALLEST_PLAN);
    const plan = await this.queries.execute(new GetPlanQuery(level)).catch(() => null);
    return (plan?.deployment_memory_mb ?? 256) * 1024 * 1024;
  }

  /**
   * Takes a uid and makes the cgroups for one sandbox of the app, and hands
   * its directories (`writable`) to that uid. Throws when every uid is in use.
   */
  async acquire(memoryBytes: number, writable: string[]): Promise<AppSlot> {
    const { uids, memory: memoryGroups, cpu: cpuGroups } = await this.detect();
    const uid = uids.take();
    let memory: MemoryCgroup | undefined;
    let cpu: CpuCgroup | undefined;
    try {
      if (uid !== undefined) for (const dir of writable) chownTree(dir, uid);
      memory = memoryGroups?.create();
      memory?.setLimit(memoryBytes);
      const { cpuWeight: weight, cpuMillicores: millicores } = this.config.deployments;
      cpu = cpuGroups?.create(memory, { weight, millicores });
    } catch (error) {
      await memory?.remove().catch(() => undefined);
      uids.give(uid);
      throw error;
    }
    const procsFiles = [memory?.procsFile, cpu?.procsFile].filter((file): file is string => file !== undefined);
    let released = false;
    return {
      uid,
      procsFiles,
      memory,
      memoryBytes,
      outOfMemory: () => memory?.oomKilledSinceAsked() ?? false,
      release: async () => {
        if (released) return;
        released = true;
        const warn = (error: Error) => this.logger.pino.warn({ err: error }, 'an app cgroup was not removed');
        await Promise.all([memory?.remove().catch(warn), cpu?.remove().catch(warn)]);
        uids.give(uid);
      },
    };
  }

  private detect(): Promise<Controllers> {
    this.controllers ??= (async () => {
      const { uidBase, uidCount } = this.config.deployments;
      if (process.getuid?.() !== 0) {
        this.logger.pino.warn('deployed apps run on the service\'s uid, without memory and CPU limits: the service does not run as root');
        return { uids: new UidPool(false, uidBase, uidCount) };
      }
      const blocked = this.blockedParent();
      if (blocked) this.logger.pino.warn({ directory: blocked }, 'deployed apps run on the service\'s uid: their own uids could not pass this directory on the way to DATA_DIR (give it o+x, or move DATA_DIR)');
      const memory = await MemoryCgroups.detect('coderunner-apps');
      const cpu = await CpuCgroups.detect('coderunner-apps');
      if (!memory) this.logger.pino.warn('deployed apps run without a memory limit: no writable memory cgroup here');
      if (!cpu) this.logger.pino.warn('deployed apps run without a CPU limit: no writable CPU cgroup here');
      return { uids: new UidPool(!blocked, uidBase, uidCount), memory, cpu };
    })();
    return this.controllers;
  }

  /**
   * Lets other uids pass (x, not r) DATA_DIR and DATA_DIR/deployments, where
   * apps' directories are: bubblewrap, on the app's uid, opens them by path.
   * The first directory above DATA_DIR others cannot pass (a clone in a 0700
   * home), or undefined.
   */
  private blockedParent(): string | undefined {
    const root = join(this.config.dataDir, 'deployments');
    mkdirSync(root, { recursive: true });
    chmodSync(root, 0o711);
    chmodSync(this.config.dataDir, (statSync(this.config.dataDir).mode & 0o777) | 0o111);
    for (let dir = dirname(this.config.dataDir); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) return dir;
      if (dir === dirname(dir)) return undefined;
    }
  }
}

interface Controllers {
  uids: UidPool;
  memory?: MemoryCgroups;
  cpu?: CpuCgroups;
}

/** Gives a directory and everything in it to `uid` (never following links out of it). */
function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (!lstatSync(path).isDirectory()) return;
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, uid);
    else if (entry.isSymbolicLink()) lchownSync(child, uid, uid);
    else chownSync(child, uid, uid);
  }
}
