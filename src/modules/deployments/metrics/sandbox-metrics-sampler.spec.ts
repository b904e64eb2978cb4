import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeploymentProxy, ProxyCounters } from '../proxy/deployment-proxy';
import { DeploymentRunner } from '../runtime/deployment-runner';
import type { LiveApp, LiveAppSource } from './live-apps';
import { SandboxMetricsSampler } from './sandbox-metrics-sampler';
import type { SandboxMetricsRepository, SandboxSample } from './sandbox-metrics.repository';

/** The sampler against a real (spinning) process, a fake runner, proxy counters and repository. */
describe('SandboxMetricsSampler', () => {
  let child: ChildProcess;
  let dir: string;
  let apps: LiveApp[];
  let stored: SandboxSample[][];
  let failInsert: boolean;
  let sampler: SandboxMetricsSampler;
  const counters = new Map<string, ProxyCounters>();
  const ID = '11111111-1111-4111-8111-111111111111';

  beforeAll(() => {
    child = spawn(process.execPath, ['-e', 'for (;;) {}']);
    dir = mkdtempSync(join(tmpdir(), 'sampler-'));
    writeFileSync(join(dir, 'server.js'), Buffer.alloc(10_000, 1));
  });
  afterAll(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    apps = [{ deploymentId: ID, pid: child.pid!, appDir: dir, ownerId: 'owner', uid: null, memoryLimitBytes: null }];
    stored = [];
    failInsert = false;
    counters.clear();
    const source: LiveAppSource = { liveApps: () => apps };
    const repository = {
      insert: async (samples: SandboxSample[]) => {
        if (failInsert) throw new Error('database down');
        stored.push(samples);
      },
    } as unknown as SandboxMetricsRepository;
    sampler = new SandboxMetricsSampler(source, { counters } as unknown as DeploymentProxy, repository);
  });

  it('writes one row per app: CPU over the interval, memory, disk, request deltas, network 0', async () => {
    counters.set(ID, { requests: 3, errors: 1 });
    expect(await sampler.sample()).toBe(1);
    counters.set(ID, { requests: 10, errors: 1 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await sampler.sample()).toBe(1);
    const [[first], [second]] = stored;
    expect(first).toMatchObject({ deploymentId: ID, requests: 3, errors: 1, networkInBytes: 0, networkOutBytes: 0 });
    expect(second).toMatchObject({ requests: 7, errors: 0 });
    // A process spinning on one core: near 100 %, with room for a busy machine.
    expect(second.cpuPercent).toBeGreaterThan(30);
    expect(second.cpuPercent).toBeLessThan(150);
    expect(second.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(second.diskBytes).toBeGreaterThanOrEqual(10_000);
    expect(sampler.lastSample(ID)).toBe(second);
  });

  it('a failed INSERT folds its requests into the next sample', async () => {
    await sampler.sample();
    counters.set(ID, { requests: 4, errors: 2 });
    failInsert = true;
    await expect(sampler.sample()).rejects.toThrow('database down');
    failInsert = false;
    counters.set(ID, { requests: 6, errors: 2 });
    await sampler.sample();
    expect(stored.map(([row]) => row.requests)).toEqual([0, 6]);
    expect(stored[1][0].errors).toBe(2);
  });

  it('calls at once share one sample; an app gone is not sampled, and coming back its requests are not counted twice', async () => {
    const [a, b] = await Promise.all([sampler.sample(), sampler.sample()]);
    expect([a, b, stored.length]).toEqual([1, 1, 1]);
    counters.set(ID, { requests: 5, errors: 0 });
    await sampler.sample();
    apps = [];
    expect(await sampler.sample()).toBe(0);
    expect(sampler.lastSample(ID)).toBeUndefined();
    apps = [{ deploymentId: ID, pid: child.pid!, appDir: dir, ownerId: 'owner', uid: null, memoryLimitBytes: null }];
    await sampler.sample();
    expect(stored.map((rows) => rows.map((row) => row.requests))).toEqual([[0], [5], [], [0]]);
  });

  it('DeploymentRunner is a LiveAppSource (the module binds LIVE_APPS to it)', () => {
    // Type-checked: the assignment fails to compile if the runner's liveApps() drifts from the interface.
    const source: LiveAppSource = Object.create(DeploymentRunner.prototype) as DeploymentRunner;
    expect(typeof source.liveApps).toBe('function');
  });

  it('skips an app whose process is gone', async () => {
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.on('exit', resolve));
    apps = [{ deploymentId: ID, pid: gone.pid!, appDir: dir, ownerId: 'owner', uid: null, memoryLimitBytes: null }];
    expect(await sampler.sample()).toBe(0);
  });
});
