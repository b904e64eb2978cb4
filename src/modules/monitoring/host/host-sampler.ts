import { readFileSync, statfsSync } from 'node:fs';

/**
 * One sample of a host, in the agent push's wire shape (POST
 * /monitor/servers/:id/metrics), so the agent sends what it reads as is.
 */
export interface HostSample {
  /** ISO-8601, when it was read. */
  timestamp: string;
  /** Busy share of all CPUs since the previous sample (since boot for the first), 0–100. */
  cpu_percent: number;
  /** (MemTotal − MemAvailable) / MemTotal, 0–100. */
  memory_percent: number;
  /** Used share of the filesystem holding `diskPath`, as df counts it (reserved blocks excluded), 0–100. */
  disk_percent: number;
  /** Bytes received by every interface but loopback since the previous sample (0 for the first). */
  network_in_bytes: number;
  /** Bytes sent, as network_in_bytes. */
  network_out_bytes: number;
  /** The 1-minute load average. */
  load_1m: number;
}

interface CpuTimes {
  busy: number;
  total: number;
}

interface NetCounters {
  rx: number;
  tx: number;
}

/**
 * Reads a Linux host's CPU, memory, disk, network and load straight from
 * /proc (and statfs(2) for the disk), the ONE sampler of both the platform
 * (metrics.sample_host, server `local`) and bin/coderunner-agent.
 *
 * Why /proc and not a library such as systeminformation: no dependency (the
 * agent runs from this package with nothing else installed, and this file
 * imports only node:fs, so the agent can load it without a build), and
 * precise: the CPU share comes from the kernel's own jiffy counters between
 * two of our samples (not a fresh 1-second busy-wait measurement per call),
 * memory uses MemAvailable (what the kernel says can be given to programs
 * without swapping), and the network counters are the interfaces' byte
 * counters, turned into deltas here.
 *
 * It keeps the previous CPU and network counters, so each call reports the
 * interval since the previous one. Not Linux: it throws (there is no /proc).
 * `procRoot` lets tests point it at a fake /proc.
 */
export class HostSampler {
  private previousCpu: CpuTimes | null = null;
  private previousNet: NetCounters | null = null;
  private readonly procRoot: string;
  private readonly diskPath: string;

  constructor(options: { procRoot?: string; diskPath?: string } = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.diskPath = options.diskPath ?? '/';
  }

  sample(now: Date = new Date()): HostSample {
    const cpu = this.cpuTimes();
    const net = this.netCounters();
    const previousCpu = this.previousCpu ?? { busy: 0, total: 0 };
    const busy = cpu.busy - previousCpu.busy;
    const total = cpu.total - previousCpu.total;
    const sample: HostSample = {
      timestamp: now.toISOString(),
      cpu_percent: round2(total > 0 ? clampPercent((busy / total) * 100) : 0),
      memory_percent: round2(this.memoryPercent()),
      disk_percent: round2(this.diskPercent()),
      network_in_bytes: this.previousNet ? Math.max(0, net.rx - this.previousNet.rx) : 0,
      network_out_bytes: this.previousNet ? Math.max(0, net.tx - this.previousNet.tx) : 0,
      load_1m: round2(this.load1m()),
    };
    this.previousCpu = cpu;
    this.previousNet = net;
    return sample;
  }

  private read(name: string): string {
    return readFileSync(`${this.procRoot}/${name}`, 'utf8');
  }

  /** The aggregate `cpu` line of /proc/stat: user nice system idle iowait irq softirq steal (guest is inside user). */
  private cpuTimes(): CpuTimes {
    const line = this.read('stat').split('\n').find((l) => l.startsWith('cpu '));
    if (!line) throw new Error('no cpu line in /proc/stat');
    const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = fields.reduce((sum, value) => sum + (Number.isFinite(value) ? value : 0), 0);
    const idle = (fields[3] || 0) + (fields[4] || 0);
    return { busy: total - idle, total };
  }

  private memoryPercent(): number {
    const info = new Map<string, number>();
    for (const line of this.read('meminfo').split('\n')) {
      const match = /^(\w+):\s+(\d+)/.exec(line);
      if (match) info.set(match[1], Number(match[2]));
    }
    const total = info.get('MemTotal') ?? 0;
    // MemAvailable since Linux 3.14; before it, free + buffers + cache is the usual estimate.
    const available = info.get('MemAvailable') ?? (info.get('MemFree') ?? 0) + (info.get('Buffers') ?? 0) + (info.get('Cached') ?? 0);
    return total > 0 ? clampPercent(((total - available) / total) * 100) : 0;
  }

  private diskPercent(): number {
    const fs = statfsSync(this.diskPath);
    const used = fs.blocks - fs.bfree;
    const usable = used + fs.bavail;
    return usable > 0 ? clampPercent((used / usable) * 100) : 0;
  }

  /** Every interface of /proc/net/dev but loopback: received bytes (1st field), sent bytes (9th). */
  private netCounters(): NetCounters {
    let rx = 0;
    let tx = 0;
    for (const line of this.read('net/dev').split('\n').slice(2)) {
      const [name, rest] = line.split(':');
      if (rest === undefined || name.trim() === 'lo') continue;
      const fields = rest.trim().split(/\s+/).map(Number);
      rx += fields[0] || 0;
      tx += fields[8] || 0;
    }
    return { rx, tx };
  }

  private load1m(): number {
    return Math.max(0, Number(this.read('loadavg').split(/\s+/)[0]) || 0);
  }
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
