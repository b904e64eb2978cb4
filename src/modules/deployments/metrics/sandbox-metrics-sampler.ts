import { Inject, Injectable } from '@nestjs/common';
import { DeploymentProxy, ProxyCounters } from '../proxy/deployment-proxy';
import { directorySize, treeUsages } from '../runtime/process-tree';
import { LIVE_APPS, LiveApp, LiveAppSource } from './live-apps';
import { SandboxMetricsRepository, SandboxSample } from './sandbox-metrics.repository';

/** An app directory is measured at most this often: a du of node_modules every few seconds would cost more than the app. */
export const DISK_REFRESH_MS = 60_000;

/** What the previous sample of a deployment saw, for the deltas of the next. */
interface Seen {
  pid: number;
  cpuSeconds: number;
  at: number;
}

/**
 * Samples this replica's running apps into sandbox_metrics, one row each per
 * call, all in one INSERT:
 *
 * - cpu_percent: CPU seconds of the sandbox's process tree used since the
 *   previous sample, over the wall seconds between them, × 100 (so 100 is one
 *   core; several busy cores read over 100). An app's first sample (or the
 *   first after it was restarted: a new pid) uses its whole life instead.
 * - memory_bytes: the tree's resident memory now; disk_bytes: its version
 *   directory (refreshed every DISK_REFRESH_MS, bounded like du with a limit).
 * - requests, errors: what the proxy counted for it since the previous sample.
 * - network_in/out: 0. An app's network namespace holds only a loopback
 *   device (the supervisor's relay to the app is loopback too), so there is
 *   no interface whose counters mean traffic; its traffic is the proxy's
 *   requests.
 *
 * The deltas' baselines advance only once the rows are stored: a failed
 * INSERT folds its interval into the next sample instead of losing it.
 * Calls while one is under way share it (the timer and a manual run).
 */
@Injectable()
export class SandboxMetricsSampler {
  private readonly seen = new Map<string, Seen>();
  /** The proxy's counters at the last stored sample: kept while an app is stopped, so a restart does not count them again. */
  private readonly counted = new Map<string, ProxyCounters>();
  private readonly disk = new Map<string, { appDir: string; bytes: number; at: number }>();
  private readonly latest = new Map<string, SandboxSample>();
  private running: Promise<number> | null = null;

  constructor(
    @Inject(LIVE_APPS) private readonly source: LiveAppSource,
    private readonly proxy: DeploymentProxy,
    private readonly metrics: SandboxMetricsRepository,
  ) {}

  /** Samples every running app here; resolves with the number of rows written. */
  sample(): Promise<number> {
    this.running ??= this.take().finally(() => (this.running = null));
    return this.running;
  }

  /** The last stored sample of a deployment running here, if any. */
  lastSample(deploymentId: string): SandboxSample | undefined {
    return this.latest.get(deploymentId);
  }

  private async take(): Promise<number> {
    const apps = this.source.liveApps();
    const usages = await treeUsages(apps.map((app) => app.pid));
    const at = Date.now();
    const samples: SandboxSample[] = [];
    const next: Array<{ app: LiveApp; seen: Seen; counters: ProxyCounters }> = [];
    for (const app of apps) {
      const usage = usages.get(app.pid);
      // Exited since the runner listed it: its crash or stop is the runner's business, not a sample.
      if (!usage) continue;
      const before = this.seen.get(app.deploymentId);
      const cpuPercent =
        before?.pid === app.pid && at > before.at
          ? (Math.max(0, usage.cpuSeconds - before.cpuSeconds) / ((at - before.at) / 1000)) * 100
          : usage.uptimeSeconds > 0 ? (usage.cpuSeconds / usage.uptimeSeconds) * 100 : null;
      const counters = { ...(this.proxy.counters.get(app.deploymentId) ?? { requests: 0, errors: 0 }) };
      const last = this.counted.get(app.deploymentId) ?? { requests: 0, errors: 0 };
      samples.push({
        deploymentId: app.deploymentId,
        createdAt: new Date(at),
        cpuPercent: cpuPercent === null ? null : Math.round(cpuPercent * 100) / 100,
        memoryBytes: usage.rssBytes,
        diskBytes: await this.diskOf(app, at),
        networkInBytes: 0,
        networkOutBytes: 0,
        requests: Math.max(0, counters.requests - last.requests),
        errors: Math.max(0, counters.errors - last.errors),
      });
      next.push({ app, seen: { pid: app.pid, cpuSeconds: usage.cpuSeconds, at }, counters });
    }
    await this.metrics.insert(samples);

    for (const [i, { app, seen, counters }] of next.entries()) {
      this.seen.set(app.deploymentId, seen);
      this.counted.set(app.deploymentId, counters);
      this.latest.set(app.deploymentId, samples[i]);
    }
    const running = new Set(apps.map((app) => app.deploymentId));
    for (const id of this.seen.keys()) {
      if (running.has(id)) continue;
      this.seen.delete(id);
      this.disk.delete(id);
      this.latest.delete(id);
    }
    return samples.length;
  }

  private async diskOf(app: LiveApp, at: number): Promise<number> {
    const known = this.disk.get(app.deploymentId);
    if (known && known.appDir === app.appDir && at - known.at < DISK_REFRESH_MS) return known.bytes;
    const { bytes } = await directorySize(app.appDir);
    this.disk.set(app.deploymentId, { appDir: app.appDir, bytes, at });
    return bytes;
  }
}
