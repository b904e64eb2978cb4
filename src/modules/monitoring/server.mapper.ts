import type { ServerRow, ServerStatus } from './repositories/server.repository';
import type { ServerSample } from './repositories/server-metrics.repository';
import type { HostSample } from './host/host-sampler';

/** A server on the wire (a whitelist of its row). */
export interface ServerView {
  id: string;
  name: string;
  host: string;
  port: number;
  description: string | null;
  tags: string[];
  os: string | null;
  status: ServerStatus;
  monitored: boolean;
  probe_interval_seconds: number | null;
  latency_ms: number | null;
  checked_at: string | null;
  status_since: string | null;
  last_seen_at: string | null;
  is_local: boolean;
  created_at: string;
  updated_at: string;
}

/** A sample on the wire: the agent push's shape, which is what the host sampler reads. */
export type SampleView = HostSample;

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);
const rounded = (value: number | null): number | null => (value === null ? null : Math.round(value * 100) / 100);

export function toServerView(row: ServerRow): ServerView {
  return {
    id: row.id,
    name: row.name,
    host: row.host,
    port: row.port,
    description: row.description,
    tags: row.tags,
    os: row.os,
    status: row.status,
    monitored: row.monitored,
    probe_interval_seconds: row.probeIntervalSeconds,
    latency_ms: rounded(row.latencyMs),
    checked_at: iso(row.checkedAt),
    status_since: iso(row.statusSince),
    last_seen_at: iso(row.lastSeenAt),
    is_local: row.isLocal,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function toSampleView(sample: ServerSample): SampleView {
  return {
    timestamp: sample.recordedAt.toISOString(),
    cpu_percent: rounded(sample.cpuPercent) ?? 0,
    memory_percent: rounded(sample.memoryPercent) ?? 0,
    disk_percent: rounded(sample.diskPercent) ?? 0,
    network_in_bytes: sample.networkInBytes,
    network_out_bytes: sample.networkOutBytes,
    load_1m: rounded(sample.load1m) ?? 0,
  };
}
