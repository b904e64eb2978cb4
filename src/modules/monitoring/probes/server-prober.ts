import { Inject, Injectable } from '@nestjs/common';
import { CommandBus, EventBus } from '@nestjs/cqrs';
import { AppLogger } from '../../../common/logging/app-logger';
import { RealtimeEvent } from '../../../common/events/realtime-event';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { CreateNotificationCommand } from '../../notifications/commands/create-notification.command';
import { ProbeResult, ProbeTarget, ServerRepository, StatusChange } from '../repositories/server.repository';
import { refusedAddress } from '../host-policy';
import { probeResolver, tcpProbe } from './tcp-probe';

export interface ProbeRoundReport {
  probed: number;
  online: number;
  offline: number;
  changed: number;
  duration_ms: number;
}

/** The channel of a server's live updates. */
export const serverChannelOf = (id: string): string => `server:${id}`;

/**
 * One probe round: the monitored servers that are due (every one with `all`)
 * are TCP-connected at most MONITOR_PROBE_CONCURRENCY at a time, each within
 * MONITOR_PROBE_TIMEOUT_MS, so a slow or silent host costs one slot for at
 * most the timeout and never holds up the others. The results are stored in
 * one statement; each server whose status changed gets an `update` on its
 * channel server:<id> and its owner a notification (type `alert`,
 * data.kind `server_status`) — except a first probe finding a server online
 * (unknown → online is what everyone expects; unknown → offline is worth
 * telling) and `local`, which has no owner.
 *
 * Names are resolved through c-ares (dns.Resolver, not the thread pool's
 * getaddrinfo) within the probe's timeout, and a user's server is connected
 * to only if the address it resolved to passes host-policy.ts (else it is
 * offline for that probe, the reason in the logs); admins' servers and
 * `local` may be anywhere.
 */
@Injectable()
export class ServerProber {
  constructor(
    private readonly servers: ServerRepository,
    private readonly commands: CommandBus,
    private readonly events: EventBus,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async round(now: Date, all: boolean): Promise<ProbeRoundReport> {
    const started = Date.now();
    const { probeIntervalSeconds, probeTimeoutMs, probeConcurrency } = this.config.monitoring;
    const targets = await this.servers.dueForProbe(now, probeIntervalSeconds, all);
    const results = await this.probeAll(targets, probeTimeoutMs, probeConcurrency, this.config.monitoring.allowPrivateHosts);
    const changes = await this.servers.recordProbes(results);
    for (const change of changes) await this.announce(change);
    const online = results.filter((r) => r.status === 'online').length;
    return { probed: results.length, online, offline: results.length - online, changed: changes.length, duration_ms: Date.now() - started };
  }

  private async probeAll(targets: ProbeTarget[], timeoutMs: number, concurrency: number, allowPrivate: boolean): Promise<ProbeResult[]> {
    const results: ProbeResult[] = new Array(targets.length);
    const resolver = probeResolver(timeoutMs);
    const refuse = (address: string) => refusedAddress(address, allowPrivate);
    let next = 0;
    const worker = async () => {
      while (next < targets.length) {
        const index = next++;
        const target = targets[index];
        const checkedAt = new Date();
        const probe = await tcpProbe(target.host, target.port, { timeoutMs, resolver, refuse: target.exempt ? undefined : refuse });
        if (probe.skipped) this.logger.pino.info({ server: target.id, host: target.host, reason: probe.skipped }, 'server probe not connected');
        results[index] = { id: target.id, status: probe.online ? 'online' : 'offline', latencyMs: probe.latencyMs, checkedAt };
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
    return results;
  }

  private async announce(change: StatusChange): Promise<void> {
    const payload = {
      server_id: change.id,
      status: change.status,
      previous_status: change.previous,
      latency_ms: change.latencyMs === null ? null : Math.round(change.latencyMs * 100) / 100,
      checked_at: change.checkedAt.toISOString(),
      status_since: change.statusSince.toISOString(),
    };
    this.events.publish(new RealtimeEvent(serverChannelOf(change.id), 'update', payload));
    if (!change.userId || (change.previous === 'unknown' && change.status === 'online')) return;
    const title = change.status === 'online' ? `Server ${change.name} is back online` : `Server ${change.name} is offline`;
    const body = change.status === 'online' ? `It answered on its port in ${payload.latency_ms} ms.` : 'It did not accept a TCP connection on its port.';
    try {
      await this.commands.execute(new CreateNotificationCommand(change.userId, 'alert', title, body, { kind: 'server_status', ...payload }));
    } catch (error) {
      this.logger.pino.warn({ err: error, server: change.id }, 'server status notification not stored');
    }
  }
}
