import { lstat, opendir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * sysconf(_SC_CLK_TCK): the unit of the CPU times and start time in
 * /proc/<pid>/stat. Node cannot call sysconf, but on Linux this is USER_HZ,
 * which is part of the kernel's ABI and is 100 on every architecture (the
 * kernel's own HZ may differ; /proc converts to USER_HZ).
 */
export const CLOCK_TICKS_PER_SECOND = 100;

/** What one /proc/<pid>/stat says that metrics need. */
export interface ProcessStat {
  pid: number;
  ppid: number;
  /** utime + stime: CPU time the process's threads have used, in clock ticks. */
  ticks: number;
  /** cutime + cstime: CPU time of its children that exited and were waited for, in clock ticks. */
  childTicks: number;
  /** When the process started, in clock ticks since boot. */
  startTicks: number;
  /** It has exited and waits to be reaped (a zombie): it holds nothing any more. */
  exited: boolean;
}

/** A process tree's resources at one instant. */
export interface TreeUsage {
  /** The root first, then its descendants. */
  pids: number[];
  /**
   * CPU seconds used by the tree's processes and by descendants of theirs
   * that already exited (cutime/cstime, once waited for), so the total
   * keeps growing when short-lived children come and go.
   */
  cpuSeconds: number;
  /**
   * Sum of the processes' resident memory (VmRSS). Pages shared between them
   * (the same binary, copy-on-write after fork) count once per process, so
   * this errs high; PSS would be exact but costs a walk of every mapping.
   */
  rssBytes: number;
  /** How long the root has been running, in seconds. */
  uptimeSeconds: number;
}

/** Where procfs is; a parameter so tests can point it at a made-up one. */
export interface ProcOptions {
  procRoot?: string;
}

const PROC = '/proc';

/**
 * /proc/<pid>/stat's fields. The command name (field 2) is in parentheses and
 * may itself hold spaces and parentheses, so fields are counted from the last
 * ')'; field n (1-based) is then at index n - 3.
 */
export function parseStat(text: string): ProcessStat | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  const rest = text.slice(close + 2).split(' ');
  const field = (n: number): number => Number(rest[n - 3]);
  const stat = {
    pid: Number(text.slice(0, open - 1)),
    ppid: field(4),
    ticks: field(14) + field(15),
    childTicks: field(16) + field(17),
    startTicks: field(22),
  };
  return Object.values(stat).every(Number.isFinite) ? { ...stat, exited: rest[0] === 'Z' || rest[0] === 'X' } : null;
}

/** The process's stat, or null once it is gone (processes come and go while a tree is read). */
export async function readStat(pid: number, { procRoot = PROC }: ProcOptions = {}): Promise<ProcessStat | null> {
  const text = await readFile(join(procRoot, String(pid), 'stat'), 'utf8').catch(() => null);
  return text === null ? null : parseStat(text);
}

/** Resident memory in bytes (VmRSS, which /proc reports in kB whatever the page size); 0 for a process without memory of its own or gone. */
export async function readRssBytes(pid: number, { procRoot = PROC }: ProcOptions = {}): Promise<number> {
  const text = await readFile(join(procRoot, String(pid), 'status'), 'utf8').catch(() => '');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Seconds since boot (/proc/uptime), the clock process start times are on. */
async function secondsSinceBoot(procRoot: string): Promise<number> {
  const text = await readFile(join(procRoot, 'uptime'), 'utf8');
  return Number(text.split(' ')[0]);
}

/**
 * Children of every thread of `pid` (/proc/<pid>/task/<tid>/children: a
 * child belongs to the thread that forked it), or null when the kernel has
 * no such files (built without CONFIG_PROC_CHILDREN) — or the process is gone.
 */
async function childrenOf(pid: number, procRoot: string): Promise<number[] | null> {
  const tasks = await readdir(join(procRoot, String(pid), 'task')).catch(() => null);
  if (!tasks) return null;
  const children: number[] = [];
  let read = false;
  for (const tid of tasks) {
    // A thread may exit between the listing and the read: its children moved to another thread or were reparented.
    const text = await readFile(join(procRoot, String(pid), 'task', tid, 'children'), 'utf8').catch(() => null);
    if (text === null) continue;
    read = true;
    for (const child of text.split(' ')) if (child.trim()) children.push(Number(child));
  }
  return read ? children : null;
}

/** Every process's stat, by pid: one pass over /proc. */
async function allStats(procRoot: string): Promise<Map<number, ProcessStat>> {
  const pids = (await readdir(procRoot)).filter((name) => /^\d+$/.test(name)).map(Number);
  // Read together: one after another, each read would wait its turn on a busy event loop.
  const stats = await Promise.all(pids.map((pid) => readStat(pid, { procRoot })));
  return new Map(stats.filter((stat) => stat !== null).map((stat) => [stat.pid, stat]));
}

/**
 * The pids of each root's tree (root first), or none for a root that is gone.
 * With /proc/<pid>/task/<tid>/children the walk reads only the trees' own
 * files; without them (some kernels) it reads every process's parent once
 * for all the roots together.
 */
export async function processTrees(roots: number[], { procRoot = PROC }: ProcOptions = {}): Promise<Map<number, number[]>> {
  const trees = new Map<number, number[]>();
  let byParent: Map<number, number[]> | null = null;
  for (const root of roots) {
    if (!(await readStat(root, { procRoot }))) {
      trees.set(root, []);
      continue;
    }
    let tree = await walkChildren(root, procRoot);
    if (!tree) {
      byParent ??= parentIndex(await allStats(procRoot));
      tree = walkIndex(root, byParent);
    }
    trees.set(root, tree);
  }
  return trees;
}

/** The tree through the children files, or null when the kernel has none. */
async function walkChildren(root: number, procRoot: string): Promise<number[] | null> {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) {
    const children = await childrenOf(pids[i], procRoot);
    // The root's files missing means no children files at all; a descendant's, that it just exited.
    if (children === null) {
      if (i === 0) return null;
      continue;
    }
    pids.push(...children.filter((child) => !pids.includes(child)));
  }
  return pids;
}

function parentIndex(stats: Map<number, ProcessStat>): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const stat of stats.values()) byParent.set(stat.ppid, [...(byParent.get(stat.ppid) ?? []), stat.pid]);
  return byParent;
}

function walkIndex(root: number, byParent: Map<number, number[]>): number[] {
  const pids = [root];
  for (let i = 0; i < pids.length; i++) pids.push(...(byParent.get(pids[i]) ?? []).filter((child) => !pids.includes(child)));
  return pids;
}

/** The resources of each root's tree; a root that is gone is left out. */
export async function treeUsages(roots: number[], options: ProcOptions = {}): Promise<Map<number, TreeUsage>> {
  const procRoot = options.procRoot ?? PROC;
  const trees = await processTrees(roots, { procRoot });
  const now = await secondsSinceBoot(procRoot);
  const usages = new Map<number, TreeUsage>();
  for (const [root, pids] of trees) {
    let ticks = 0;
    let rssBytes = 0;
    let rootStart: number | null = null;
    const alive: number[] = [];
    const read = await Promise.all(pids.map(async (pid) => ({ pid, stat: await readStat(pid, { procRoot }), rss: await readRssBytes(pid, { procRoot }) })));
    for (const { pid, stat, rss } of read) {
      if (!stat) continue;
      alive.push(pid);
      if (pid === root) rootStart = stat.startTicks;
      ticks += stat.ticks + stat.childTicks;
      rssBytes += rss;
    }
    if (rootStart === null) continue;
    usages.set(root, {
      pids: alive,
      cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND,
      rssBytes,
      uptimeSeconds: Math.max(0, now - rootStart / CLOCK_TICKS_PER_SECOND),
    });
  }
  return usages;
}

/** One tree's resources, or null when its root is gone. */
export async function treeUsage(root: number, options: ProcOptions = {}): Promise<TreeUsage | null> {
  return (await treeUsages([root], options)).get(root) ?? null;
}

/** What a directory holds on disk. */
export interface DirectorySize {
  /** Allocated bytes (st_blocks × 512, as du counts), of what was looked at. */
  bytes: number;
  /** Files, directories and links looked at. */
  entries: number;
  /** False when it stopped at the bound: `bytes` is then a lower bound. */
  complete: boolean;
}

/**
 * du for one directory: allocated bytes of everything under it, symbolic
 * links not followed (a link counts as itself), other file systems not
 * avoided (an app directory holds none). Bounded: an app may have a huge
 * node_modules, and this runs every few seconds, so it stops after
 * `maxEntries` and says so. A directory that vanishes meanwhile counts as
 * what was seen of it.
 */
export async function directorySize(dir: string, maxEntries = 20_000): Promise<DirectorySize> {
  let bytes = 0;
  let entries = 0;
  const pending = [dir];
  while (pending.length) {
    const current = pending.pop()!;
    const handle = await opendir(current).catch(() => null);
    if (!handle) continue;
    for await (const entry of handle) {
      if (entries >= maxEntries) {
        // Leaving the loop early closes the directory handle.
        return { bytes, entries, complete: false };
      }
      entries++;
      const path = join(current, entry.name);
      const stat = await lstat(path).catch(() => null);
      if (!stat) continue;
      bytes += stat.blocks * 512;
      if (stat.isDirectory()) pending.push(path);
    }
  }
  return { bytes, entries, complete: true };
}
