import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { UUID_PATTERN } from '../../../common/ids';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { DeploymentLeaseRepository, LeaseHolder, RenewedLease } from '../repositories/deployment-lease.repository';

/** What a renewal found: the leases still this replica's, and the deployments it lost to another replica. */
export interface Renewal {
  held: RenewedLease[];
  lost: string[];
}

/** How long the proxy trusts a holder it read (a takeover is seen this late at most). */
const HOLDER_CACHE_MS = 1000;

/**
 * This replica's leases on deployments (deployment_leases): a replica runs a
 * deployment only while it holds its lease, renews all of its leases every
 * third of DEPLOY_LEASE_SECONDS, and a lease not renewed in time may be taken
 * by another replica, which then runs the deployment. The replica's id is kept
 * in DATA_DIR/replica-id, so a replica that restarts on the same data
 * directory finds its own leases again (its apps come back at once, not once
 * the leases have lapsed).
 */
@Injectable()
export class DeploymentLeases {
  readonly ttlMs: number;
  private id?: string;
  /** The leases this replica took, and when: a renewal that began before one was taken cannot have renewed it. */
  private readonly held = new Map<string, number>();
  private readonly holders = new Map<string, { holder: LeaseHolder | null; at: number }>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly repository: DeploymentLeaseRepository,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.ttlMs = config.deployments.leaseMs;
  }

  /** This replica's id (read or made on first use: building the app, as the OpenAPI generator does, writes nothing). */
  get replicaId(): string {
    return (this.id ??= replicaIdOf(this.config.dataDir));
  }

  /** Takes the deployment's lease (or keeps it): whether this replica may run it. */
  async acquire(deploymentId: string): Promise<boolean> {
    const acquired = await this.repository.acquire(deploymentId, this.replicaId, await this.url(), this.ttlMs);
    // Noted once it is committed: a renewal that began before cannot have seen it, and does not count it lost.
    if (acquired) this.held.set(deploymentId, performance.now());
    return acquired;
  }

  /** Renews every lease of this replica: those it holds, and the deployments it has lost meanwhile (another replica took them once they lapsed). */
  async renew(): Promise<Renewal> {
    const began = performance.now();
    const held = await this.repository.renew(this.replicaId, await this.url(), this.ttlMs);
    const renewed = new Set(held.map((lease) => lease.deploymentId));
    const lost: string[] = [];
    for (const [id, at] of this.held) {
      if (at < began && !renewed.has(id)) {
        lost.push(id);
        this.held.delete(id);
      }
    }
    return { held, lost };
  }

  /** Forgets every lease without the database (it is out of reach): see DeploymentRunner's fencing. */
  forgetAll(): void {
    this.held.clear();
  }

  /** Once the database is back after fencing: the leases go (a renewal would otherwise take back what nothing here runs). */
  async dropAll(): Promise<void> {
    this.held.clear();
    await this.repository.deleteAll(this.replicaId);
  }

  async release(deploymentId: string): Promise<void> {
    this.held.delete(deploymentId);
    await this.repository.release(deploymentId, this.replicaId);
  }

  async releaseAll(): Promise<void> {
    this.held.clear();
    await this.repository.releaseAll(this.replicaId);
  }

  /** Who holds the deployment now, or null. */
  holder(deploymentId: string): Promise<LeaseHolder | null> {
    return this.repository.holder(deploymentId);
  }

  /** The holder as read within the last second (the proxy asks for every request of a deployment that runs elsewhere). */
  async recentHolder(deploymentId: string): Promise<LeaseHolder | null> {
    const cached = this.holders.get(deploymentId);
    if (cached && performance.now() - cached.at < HOLDER_CACHE_MS) return cached.holder;
    const holder = await this.repository.holder(deploymentId);
    if (this.holders.size > 10_000) this.holders.clear();
    this.holders.set(deploymentId, { holder, at: performance.now() });
    return holder;
  }

  /** Deployments that should run but no replica holds: taken over by whoever finds them first. */
  unheld(): Promise<string[]> {
    return this.repository.unheld(this.ttlMs);
  }

  /** Deployments another replica runs now. */
  heldElsewhere(): Promise<Set<string>> {
    return this.repository.heldElsewhere(this.replicaId);
  }

  /** Deployments left half-stopped by a replica that went away (nobody holds them). */
  stranded(): Promise<string[]> {
    return this.repository.stranded();
  }

  /**
   * Where the other replicas reach this one: REPLICA_URL, else the address the
   * HTTP server listens on (loopback for a wildcard: replicas on one host).
   * Waits for the server to listen (the start-up's bring-back runs before).
   */
  async url(): Promise<string> {
    if (this.config.deployments.replicaUrl) return this.config.deployments.replicaUrl.replace(/\/+$/, '');
    const server = this.adapterHost.httpAdapter.getHttpServer() as Server;
    if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
    const { address, port } = server.address() as AddressInfo;
    const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address.includes(':') ? `[${address}]` : address;
    return `http://${host}:${port}`;
  }
}

/** The replica's id from DATA_DIR/replica-id, made on its first start. */
function replicaIdOf(dataDir: string): string {
  const file = join(dataDir, 'replica-id');
  const stored = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (UUID_PATTERN.test(stored)) return stored.toLowerCase();
  const id = randomUUID();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}
