import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HostSampler } from './host-sampler';

/** A fake /proc: the sampler's figures from known counters. */
describe('HostSampler', () => {
  let proc: string;
  const write = (cpu: number[], rx: number, tx: number, load = '0.42 0.30 0.20 1/100 1234') => {
    writeFileSync(join(proc, 'stat'), `cpu  ${cpu.join(' ')} 0 0\ncpu0 1 2 3 4\nintr 1\n`);
    writeFileSync(join(proc, 'meminfo'), 'MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    250 kB\nBuffers: 10 kB\n');
    writeFileSync(
      join(proc, 'net/dev'),
      'Inter-|   Receive                                                |  Transmit\n' +
        ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
        `    lo: 999999 1 0 0 0 0 0 0 999999 1 0 0 0 0 0 0\n  eth0: ${rx} 10 0 0 0 0 0 0 ${tx} 10 0 0 0 0 0 0\n  eth1: 5 1 0 0 0 0 0 0 7 1 0 0 0 0 0 0\n`,
    );
    writeFileSync(join(proc, 'loadavg'), `${load}\n`);
  };

  beforeEach(() => {
    proc = mkdtempSync(join(tmpdir(), 'fake-proc-'));
    mkdirSync(join(proc, 'net'));
  });
  afterEach(() => rmSync(proc, { recursive: true, force: true }));

  it('reads CPU and network as deltas between samples, memory from MemAvailable, load, and the disk of a path', () => {
    const sampler = new HostSampler({ procRoot: proc, diskPath: tmpdir() });
    // user nice system idle iowait irq softirq steal
    write([100, 0, 50, 800, 50, 0, 0, 0], 1000, 2000);
    const first = sampler.sample(new Date('2025-01-01T00:00:00Z'));
    expect(first).toMatchObject({
      timestamp: '2025-01-01T00:00:00.000Z',
      cpu_percent: 15, // 150 busy of 1000 since boot
      memory_percent: 75,
      network_in_bytes: 0,
      network_out_bytes: 0,
      load_1m: 0.42,
    });
    expect(first.disk_percent).toBeGreaterThanOrEqual(0);
    expect(first.disk_percent).toBeLessThanOrEqual(100);

    write([160, 0, 70, 820, 50, 0, 0, 0], 1500, 2100, '1.5 1 1 1/1 1');
    const second = sampler.sample(new Date('2025-01-01T00:00:15Z'));
    // 80 busy of 100 jiffies; lo is left out, eth0 and eth1 counted.
    expect(second).toMatchObject({ cpu_percent: 80, network_in_bytes: 500, network_out_bytes: 100, load_1m: 1.5 });

    // Counters that went back (an interface reset) never give negative bytes.
    write([170, 0, 70, 830, 50, 0, 0, 0], 10, 10);
    expect(sampler.sample()).toMatchObject({ cpu_percent: 50, network_in_bytes: 0, network_out_bytes: 0 });
  });

  it('samples this machine within range', () => {
    const sample = new HostSampler().sample();
    for (const field of ['cpu_percent', 'memory_percent', 'disk_percent'] as const) {
      expect(sample[field]).toBeGreaterThanOrEqual(0);
      expect(sample[field]).toBeLessThanOrEqual(100);
    }
    expect(sample.load_1m).toBeGreaterThanOrEqual(0);
  });
});
