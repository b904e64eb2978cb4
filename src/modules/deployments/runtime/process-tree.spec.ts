import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { directorySize, parseStat, processTrees, treeUsage } from './process-tree';

/**
 * A parent that starts two children: one spinning on the CPU, one holding
 * ~64 MB; each child prints its pid, the parent prints "ready" after both.
 */
const TREE = `
const { spawn } = require('child_process');
const spin = "process.stdout.write(process.pid + '\\\\n'); for (;;) {}";
const hold = "process.stdout.write(process.pid + '\\\\n'); globalThis.keep = Buffer.alloc(64 * 1024 * 1024, 1); setInterval(() => {}, 1000)";
let seen = 0;
for (const code of [spin, hold]) {
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', (data) => { process.stdout.write('child ' + data); if (++seen === 2) process.stdout.write('ready\\n'); });
}
setInterval(() => {}, 1000);
`;

describe('process-tree', () => {
  let parent: ChildProcess;
  const childPids: number[] = [];

  beforeAll(async () => {
    parent = spawn(process.execPath, ['-e', TREE], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
    await new Promise<void>((resolve, reject) => {
      let text = '';
      parent.stdout!.on('data', (data: Buffer) => {
        text += data.toString();
        for (const match of text.matchAll(/child (\d+)\n/g)) if (!childPids.includes(Number(match[1]))) childPids.push(Number(match[1]));
        if (text.includes('ready')) resolve();
      });
      parent.on('exit', () => reject(new Error('the tree exited')));
    });
  });

  afterAll(() => {
    // The whole group: the parent and both children (detached: a group of its own).
    if (parent.pid) process.kill(-parent.pid, 'SIGKILL');
  });

  it('finds every process of the tree, root first', async () => {
    const trees = await processTrees([parent.pid!]);
    const pids = trees.get(parent.pid!)!;
    expect(pids[0]).toBe(parent.pid);
    expect(pids).toEqual(expect.arrayContaining(childPids));
    expect(pids).not.toContain(process.pid);
  });

  it('sums CPU seconds (growing while a child spins), resident memory and uptime', async () => {
    const first = (await treeUsage(parent.pid!))!;
    await new Promise((resolve) => setTimeout(resolve, 600));
    const second = (await treeUsage(parent.pid!))!;
    expect(first.pids).toEqual(expect.arrayContaining([parent.pid, ...childPids]));
    // The spinning child uses about one CPU: at least a quarter of the wall time passed, allowing for a busy machine.
    expect(second.cpuSeconds - first.cpuSeconds).toBeGreaterThan(0.15);
    // Three Node processes and a 64 MB buffer written through.
    expect(second.rssBytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(second.uptimeSeconds).toBeGreaterThanOrEqual(first.uptimeSeconds);
    expect(second.uptimeSeconds).toBeLessThan(120);
  });

  it('answers nothing for a root that is gone', async () => {
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.on('exit', resolve));
    expect(await treeUsage(gone.pid!)).toBeNull();
    expect((await processTrees([gone.pid!])).get(gone.pid!)).toEqual([]);
  });

  it('reads the children files where the kernel has them (a made-up /proc)', async () => {
    const proc = mkdtempSync(join(tmpdir(), 'proc-'));
    try {
      const stat = (pid: number, ppid: number, comm: string, utime: number, start: number) =>
        `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 0 0 0 0 0 ${utime} 5 1 1 20 0 1 0 ${start} 1000 10\n`;
      const processes = [
        { pid: 10, ppid: 1, comm: 'bwrap', utime: 100, threads: { 10: '11 ' } },
        { pid: 11, ppid: 10, comm: 'node ) (sup', utime: 200, threads: { 11: '12 13', 14: '15 ' } },
        { pid: 12, ppid: 11, comm: 'sh', utime: 0, threads: { 12: '' } },
        { pid: 13, ppid: 11, comm: 'app', utime: 700, threads: { 13: '' } },
        { pid: 15, ppid: 11, comm: 'worker', utime: 0, threads: { 15: '' } },
        { pid: 99, ppid: 1, comm: 'unrelated', utime: 5, threads: { 99: '' } },
      ];
      writeFileSync(join(proc, 'uptime'), '1000.50 10.00\n');
      for (const p of processes) {
        mkdirSync(join(proc, String(p.pid)));
        writeFileSync(join(proc, String(p.pid), 'stat'), stat(p.pid, p.ppid, p.comm, p.utime, 90_000));
        writeFileSync(join(proc, String(p.pid), 'status'), `Name:\t${p.comm}\nVmRSS:\t    1024 kB\n`);
        for (const [tid, children] of Object.entries(p.threads)) {
          mkdirSync(join(proc, String(p.pid), 'task', tid), { recursive: true });
          writeFileSync(join(proc, String(p.pid), 'task', tid, 'children'), children);
        }
      }
      const usage = (await treeUsage(10, { procRoot: proc }))!;
      expect(usage.pids).toEqual([10, 11, 12, 13, 15]);
      // utime + stime (5) + cutime + cstime (1 + 1) each, in ticks of 1/100 s.
      expect(usage.cpuSeconds).toBeCloseTo((100 + 200 + 0 + 700 + 0 + 5 * 7) / 100);
      expect(usage.rssBytes).toBe(5 * 1024 * 1024);
      expect(usage.uptimeSeconds).toBeCloseTo(1000.5 - 900);
    } finally {
      rmSync(proc, { recursive: true, force: true });
    }
  });

  it('parses a stat line whose command name holds spaces and parentheses', () => {
    expect(parseStat('42 (a) b (c) R 7 42 42 0 -1 0 0 0 0 0 3 4 5 6 20 0 1 0 1234 0 0')).toEqual({ pid: 42, ppid: 7, ticks: 7, childTicks: 11, startTicks: 1234, exited: false });
    expect(parseStat('42 (a) Z 7 42 42 0 -1 0 0 0 0 0 3 4 5 6 20 0 1 0 1234 0 0')?.exited).toBe(true);
    expect(parseStat('garbage')).toBeNull();
  });

  it('measures a directory as du does, and stops at its bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'du-'));
    try {
      mkdirSync(join(dir, 'a', 'b'), { recursive: true });
      writeFileSync(join(dir, 'a', 'b', 'big'), Buffer.alloc(256 * 1024, 1));
      for (let i = 0; i < 20; i++) writeFileSync(join(dir, `f${i}`), 'x');
      const whole = await directorySize(dir);
      expect(whole.complete).toBe(true);
      expect(whole.entries).toBe(23);
      expect(whole.bytes).toBeGreaterThanOrEqual(256 * 1024);
      const bounded = await directorySize(dir, 5);
      expect(bounded).toMatchObject({ entries: 5, complete: false });
      expect(await directorySize(join(dir, 'missing'))).toEqual({ bytes: 0, entries: 0, complete: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
