import { hostname } from 'node:os';
import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { DeploymentProxy } from '../proxy/deployment-proxy';
import { DeploymentLeases } from '../runtime/deployment-leases';
import { treeUsages } from '../runtime/process-tree';
import { LIVE_APPS, LiveAppSource } from '../metrics/live-apps';
import { SandboxMetricsSampler } from '../metrics/sandbox-metrics-sampler';
import { SandboxMetricsRepository } from '../metrics/sandbox-metrics.repository';

export interface LiveSandboxView {
  deployment_id: string;
  name: string | null;
  owner_id: string;
  version: number | null;
  /** The sandbox's bubblewrap process on the host. */
  pid: number;
  /** Processes in its tree now. */
  processes: number;
  /** At the last sample (null before the first). */
  cpu_percent: number | null;
  /** CPU seconds used since it started. */
  cpu_seconds: number;
  /** Resident memory now. */
  memory_bytes: number;
  /** Its memory cgroup's limit (its owner's plan's deployment_memory_mb); null where there is no cgroup. */
  memory_limit_bytes: number | null;
  /** The host uid it runs as; null when the service is not root and apps share its uid. */
  uid: number | null;
  /** Its version directory at the last sample (null before the first). */
  disk_bytes: number | null;
  uptime_seconds: number;
  /** Through this replica's proxy since this replica started. */
  requests: number;
  errors: number;
}

export interface LiveSandboxList {
  /** The replica that answered: each one lists the apps it runs. */
  replica: string;
  /** Its id in deployment_leases. */
  replica_id: string;
  sandboxes: LiveSandboxView[];
}

const REPLICA = `${hostname()}:${process.pid}`;

/** The apps running on this replica with their resources, measured now (an admin's view). */
export class ListLiveSandboxesQuery extends Query<LiveSandboxList> {}

@QueryHandler(ListLiveSandboxesQuery)
export class ListLiveSandboxesHandler implements IQueryHandler<ListLiveSandboxesQuery> {
  constructor(
    @Inject(LIVE_APPS) private readonly source: LiveAppSource,
    private readonly sampler: SandboxMetricsSampler,
    private readonly proxy: DeploymentProxy,
    private readonly metrics: SandboxMetricsRepository,
    private readonly leases: DeploymentLeases,
  ) {}

  async execute(): Promise<LiveSandboxList> {
    const apps = this.source.liveApps();
    const usages = await treeUsages(apps.map((app) => app.pid));
    const facts = new Map((await this.metrics.facts(apps.map((app) => app.deploymentId))).map((row) => [row.id, row]));
    const sandboxes: LiveSandboxView[] = [];
    for (const app of apps) {
      const usage = usages.get(app.pid);
      if (!usage) continue;
      const last = this.sampler.lastSample(app.deploymentId);
      const counters = this.proxy.counters.get(app.deploymentId);
      sandboxes.push({
        deployment_id: app.deploymentId,
        name: facts.get(app.deploymentId)?.name ?? null,
        owner_id: app.ownerId,
        version: facts.get(app.deploymentId)?.currentVersion ?? null,
        pid: app.pid,
        processes: usage.pids.length,
        cpu_percent: last?.cpuPercent ?? null,
        cpu_seconds: Math.round(usage.cpuSeconds * 100) / 100,
        memory_bytes: usage.rssBytes,
        memory_limit_bytes: app.memoryLimitBytes,
        uid: app.uid,
        disk_bytes: last?.diskBytes ?? null,
        uptime_seconds: Math.round(usage.uptimeSeconds),
        requests: counters?.requests ?? 0,
        errors: counters?.errors ?? 0,
      });
    }
    return { replica: REPLICA, replica_id: this.leases.replicaId, sandboxes };
  }
}
