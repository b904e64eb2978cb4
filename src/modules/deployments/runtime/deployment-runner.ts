import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { CommandBus, EventBus } from '@nestjs/cqrs';
import { RealtimeBatchEvent, RealtimeEvent } from '../../../common/events/realtime-event';
import { AppLogger } from '../../../common/logging/app-logger';
import { readSandboxLayout, SandboxLayout } from '../../../common/sandbox/sandbox-layout';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { CreateNotificationCommand } from '../../notifications/commands/create-notification.command';
import { canMove, DeploymentStatus } from '../deployment-state';
import { DeploymentRepository, DeploymentRow, VersionRow } from '../repositories/deployment.repository';
import { DeploymentVersions } from '../deployment-versions';
import { DeploymentLogWriter } from '../logs/deployment-log-writer';
import { LIVE_LINES_PER_SECOND, LiveLogLimiter } from '../logs/live-log-limiter';
import type { LiveApp } from '../metrics/live-apps';
import { VersionFiles } from '../version-files';
import { AppResources } from './app-resources';
import { DeploymentLeases } from './deployment-leases';
import { AppSandbox, exitText, OutputLine } from './app-sandbox';
import { LOWERCASE_UUID_PATTERN as UUID } from '../../../common/ids';
import { within } from '../../../common/within';

/** The longest a crashed app waits before it is started again. */
const MAX_BACKOFF_MS = 30_000;

/** How long an app's way out (slirp4netns and its firewall) may take to come up. */
const OUTBOUND_TIMEOUT_MS = 10_000;

/** A deployment directory without a deployment is removed once it is this old (a create in progress writes its files first). */
const ORPHAN_AGE_MS = 10 * 60_000;

/** What one reconciliation did. */
export interface Reconciled {
  brought_back: number;
  stopped_orphans: number;
  removed_directories: number;
  /** Asked to stop, but the replica running them went away first: recorded as stopped. */
  settled_stops: number;
}

/** One deployment as this replica runs it. */
interface Live {
  sandbox: AppSandbox | null;
  /** Answers the proxy: the app passed its health check and is still up. */
  ready: boolean;
  /** Bumped by every start and stop: work begun for an older one gives up. */
  generation: number;
  crashes: number[];
  restartTimer?: NodeJS.Timeout;
  /** Who may reach a private version through the proxy. */
  ownerId: string;
  private: boolean;
  /** The stop under way here: a second one asked meanwhile waits for it. */
  stopping?: Promise<void>;
}

/** Where the proxy sends a request, and whether it must be the owner's. */
export interface AppRoute {
  socketPath: string;
  ownerId: string;
  private: boolean;
  /** Counts the request in (a version being replaced waits for those inside); call the result when it is answered. */
  enter: () => () => void;
}

export interface DeploymentLogLine {
  deploymentId: string;
  source: 'stdout' | 'stderr' | 'platform';
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  truncated: boolean;
}

/**
 * Runs deployments on this replica, one AppSandbox each: builds (the build
 * command in the same sandbox layout, with a timeout), starts, waits for the
 * health check, and watches. A crash restarts the app with exponential backoff
 * (1 s, 2 s, 4 s … 30 s); DEPLOY_MAX_CRASHES within DEPLOY_CRASH_WINDOW_MS
 * make it failed. Every status change is stored, logged as a platform line,
 * published as an `update` on `deployment:<id>` and, when it comes to rest
 * (running, failed, stopped), told to the owner as a `deployment_status`
 * notification. On start-up, what should be running is started again.
 *
 * With several replicas on one database, each deployment runs on the one
 * replica that holds its lease (DeploymentLeases): a start takes the lease
 * first and gives up if another replica holds it; the leases are renewed every
 * third of their time, and an app whose lease another replica took (this one
 * was too slow to renew) is stopped here; deployments that should run and that
 * nobody holds are taken over; a stop, a delete and a shutdown let go.
 */
@Injectable()
export class DeploymentRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly apps = new Map<string, Live>();
  private layout?: SandboxLayout;
  private shuttingDown = false;
  /** The start-up bring-back is under way (reconcile leaves what should run to it meanwhile). */
  private bringingBack = true;
  /** Log lines of this event-loop turn, published together (log). */
  private liveLines: RealtimeEvent[] = [];
  private leaseTimer?: NodeJS.Timeout;
  private reconcileTimer?: NodeJS.Timeout;
  /** A renewal is under way (the next waits for it). */
  private keeping = false;
  /** When the last renewal that succeeded began (performance.now()). */
  private lastRenewed = performance.now();
  /** The leases lapsed while the database was out of reach: the apps were stopped here, the leases are let go once it is back. */
  private fenced = false;
  /** The reconciliation under way: a second asked meanwhile (the job and this replica's own timer) shares it. */
  private reconciling?: Promise<Reconciled>;
  /** The live view's budget per deployment; what it holds back is said live (not stored: the lines themselves are). */
  private readonly live = new LiveLogLimiter((deploymentId, count) =>
    this.publishLive({
      deploymentId,
      source: 'platform',
      level: 'warn',
      message: `${count} lines not shown live (over ${LIVE_LINES_PER_SECOND} a second); GET /deployments/${deploymentId}/logs has them`,
      truncated: false,
    }),
  );

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly deployments: DeploymentRepository,
    private readonly events: EventBus,
    private readonly commands: CommandBus,
    private readonly versions: DeploymentVersions,
    private readonly logger: AppLogger,
    private readonly logs: DeploymentLogWriter,
    private readonly resources: AppResources,
    private readonly files: VersionFiles,
    private readonly leases: DeploymentLeases,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: the API serves while the apps come back, one after another.
    void this.bringBack();
    this.lastRenewed = performance.now();
    this.leaseTimer = setInterval(() => void this.keepLeases(), Math.max(500, Math.floor(this.leases.ttlMs / 3)));
    this.leaseTimer.unref();
    // What is this replica's own (its apps, its directories) it reconciles itself every minute; the job runs on one replica a tick.
    this.reconcileTimer = setInterval(() => void this.reconcile().catch((error: unknown) => this.logger.pino.warn({ err: error }, 'deployments not reconciled')), 60_000);
    this.reconcileTimer.unref();
  }

  /** The replica is shutting down: it takes no more commands. */
  get closing(): boolean {
    return this.shuttingDown;
  }

  /** Before the database goes: the apps stop, and their leases are let go so another replica takes them over at once. */
  async beforeApplicationShutdown(): Promise<void> {
    this.shuttingDown = true;
    clearInterval(this.leaseTimer);
    clearInterval(this.reconcileTimer);
    // The apps go with this process; what should run stays recorded and comes back with the next start (here or on another replica).
    await Promise.all([...this.apps.values()].map((live) => this.halt(live)));
    await this.leases.releaseAll().catch((error: unknown) => this.logger.pino.warn({ err: error }, 'deployment leases not let go'));
  }

  /** Where the proxy reaches a running deployment, or null. */
  routeOf(deploymentId: string): AppRoute | null {
    const live = this.apps.get(deploymentId);
    const sandbox = live?.ready ? live.sandbox : null;
    return sandbox && live ? { socketPath: sandbox.socketPath, ownerId: live.ownerId, private: live.private, enter: () => sandbox.enter() } : null;
  }

  /** The directory a version's files are written to. */
  versionDir(deploymentId: string, versionNumber: number): string {
    return join(this.config.dataDir, 'deployments', deploymentId, `v${versionNumber}`);
  }

  deploymentDir(deploymentId: string): string {
    return join(this.config.dataDir, 'deployments', deploymentId);
  }

  /**
   * The directory of a version's files on this server, written from the blob
   * store when it is not there (a new disk, a replica that never ran it);
   * null when they cannot be had.
   */
  private async filesOf(version: VersionRow): Promise<string | null> {
    const dir = this.versionDir(version.deploymentId, version.versionNumber);
    if (existsSync(dir)) return dir;
    try {
      if (!(await this.files.materialize(version.files, dir))) return null;
    } catch (error) {
      this.logger.pino.error({ err: error, deployment: version.deploymentId }, 'a version\'s files could not be read from the blob store');
      return null;
    }
    this.platformLine(version.deploymentId, 'info', `version ${version.versionNumber}: files written from the blob store`);
    return dir;
  }

  /** Moves files written to a staging directory to where a version's files live. */
  adoptFiles(staging: string, deploymentId: string, versionNumber: number): void {
    const target = this.versionDir(deploymentId, versionNumber);
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
  }

  /**
   * Starts the deployment's current version (stopping what runs of it here);
   * resolves once it is running or failed. Not for a deployment being stopped.
   * `afterCrash`: a start after a crash, whose failure counts as one more crash.
   */
  async launch(deploymentId: string, afterCrash = false): Promise<void> {
    const deployment = await this.deployments.findById(deploymentId);
    if (!deployment || this.shuttingDown) return;
    // Another replica runs it: nothing to do here.
    if (!(await this.leases.acquire(deploymentId))) return;
    // Claimed here at once (a start begun before this one gives up).
    const live = this.liveOf(deploymentId);
    const generation = ++live.generation;
    const version = await this.deployments.version(deploymentId, deployment.currentVersion);
    if (!version) return void (await this.move(deploymentId, 'failed', `version ${deployment.currentVersion} is missing`));
    clearTimeout(live.restartTimer);
    await this.halt(live);
    live.ownerId = deployment.userId;
    live.private = version.config.private;

    const appDir = await this.filesOf(version);
    if (!appDir) return void (await this.move(deploymentId, 'failed', 'the version\'s files are missing on this server'));
    const env = this.envOf(version);
    const { build_command: build, start_command: start, port, health_check_path: healthPath } = version.config;

    if (build) {
      if (!(await this.move(deploymentId, 'building', null))) return;
      const failure = await this.build(deploymentId, appDir, 'build', 'build', build, env, live);
      if (live.generation !== generation) return;
      if (failure) return void (await this.move(deploymentId, 'failed', failure));
    }
    if (!(await this.move(deploymentId, 'starting', null))) return;
    const sandbox = await this.sandbox(deploymentId, appDir, `run${version.versionNumber}`, port, start, env).catch((error: Error) => error);
    if (sandbox instanceof Error) return void (await this.move(deploymentId, 'failed', `the app could not start: ${sandbox.message}`));
    if (live.generation !== generation) return void (await sandbox.stop());
    live.sandbox = sandbox;
    const health = await sandbox.waitHealthy(healthPath, this.config.deployments.healthTimeoutMs);
    if (live.generation !== generation) return;
    if (health === null) {
      const exit = await Promise.race([sandbox.exited, Promise.resolve(null)]);
      await sandbox.stop();
      if (afterCrash) return this.crashed(deploymentId, live, generation, exit ? exitText(exit) : 'no health check answer');
      const reason = exit
        ? `the app exited (${exitText(exit)}) before answering its health check`
        : `the app ${this.noAnswer(healthPath)}`;
      return void (await this.move(deploymentId, 'failed', reason));
    }
    this.platformLine(deploymentId, 'info', `health check GET ${healthPath} answered ${health}`);
    live.ready = true;
    // Refused: it was stopped (or deleted) meanwhile, from another replica perhaps; the app does not serve on.
    if (!(await this.move(deploymentId, 'running', null))) return this.halt(live);
    void sandbox.exited.then((exit) => this.crashed(deploymentId, live, generation, exitText(exit)));
  }

  /**
   * Puts a new version in place. A deployment running here is switched
   * without downtime: the new version is built and started beside the old one,
   * takes the traffic once it answers its health check, and only then is the
   * old one stopped; if it fails, the old one serves on and the deployment's
   * error says why (its current version stays the old one). A deployment not
   * running here is simply started on the new version — unless it is stopped,
   * which only records it.
   */
  async redeploy(deploymentId: string, versionNumber: number): Promise<void> {
    const deployment = await this.deployments.findById(deploymentId);
    const version = await this.deployments.version(deploymentId, versionNumber);
    if (!deployment || !version || this.shuttingDown) return;
    const live = this.liveOf(deploymentId);
    if (deployment.status === 'stopped') return this.deployments.setCurrentVersion(deploymentId, versionNumber);
    if (!live.ready || !live.sandbox) {
      await this.deployments.setCurrentVersion(deploymentId, versionNumber);
      if (canMove(deployment.status, 'restarting')) await this.move(deploymentId, 'restarting', null);
      return this.launch(deploymentId);
    }

    const generation = live.generation;
    const appDir = await this.filesOf(version);
    if (!appDir) return this.redeployFailed(deploymentId, versionNumber, deployment.currentVersion, 'its files are missing');
    const env = this.envOf(version);
    const { build_command: build, start_command: start, port, health_check_path: healthPath } = version.config;
    this.platformLine(deploymentId, 'info', `version ${versionNumber}: starting beside version ${deployment.currentVersion}`);
    let failure: string | null = null;
    if (build) failure = await this.build(deploymentId, appDir, `build${versionNumber}`, `build of version ${versionNumber}`, build, env);
    let next: AppSandbox | null = null;
    if (!failure) {
      const started = await this.sandbox(deploymentId, appDir, `run${versionNumber}`, port, start, env).catch((error: Error) => error);
      if (started instanceof Error) return this.redeployFailed(deploymentId, versionNumber, deployment.currentVersion, `it could not start: ${started.message}`);
      next = started;
      const health = await next.waitHealthy(healthPath, this.config.deployments.healthTimeoutMs);
      if (health === null) failure = `it ${this.noAnswer(healthPath)}`;
    }
    if (live.generation !== generation || failure) {
      await next?.stop();
      if (failure && live.generation === generation) await this.redeployFailed(deploymentId, versionNumber, deployment.currentVersion, failure);
      return;
    }
    // Recorded first, so whoever sees the new version answer also reads it as current.
    await this.deployments.setCurrentVersion(deploymentId, versionNumber);
    await this.deployments.setError(deploymentId, null);
    if (live.generation !== generation) return void (await next!.stop());
    // The switch: the proxy reads live.sandbox, so new requests go to the new version from here on.
    const old = live.sandbox;
    const switched = ++live.generation;
    live.sandbox = next!;
    live.crashes = [];
    live.private = version.config.private;
    void next!.exited.then((exit) => this.crashed(deploymentId, live, switched, exitText(exit)));
    this.platformLine(deploymentId, 'info', `version ${versionNumber} serves; stopping version ${deployment.currentVersion}`);
    this.events.publish(new RealtimeEvent(`deployment:${deploymentId}`, 'update', { id: deploymentId, status: 'running', error: null, version: versionNumber }));
    // Requests already inside the old version finish before it goes.
    await old.drainThenStop(this.config.deployments.drainMs);
  }

  /** A version started beside the running one did not come up: the old one serves on, the deployment says why. */
  private async redeployFailed(deploymentId: string, versionNumber: number, serving: number, failure: string): Promise<void> {
    const error = `version ${versionNumber} failed: ${failure}; version ${serving} serves on`;
    await this.deployments.setError(deploymentId, error);
    this.platformLine(deploymentId, 'error', error);
    this.events.publish(new RealtimeEvent(`deployment:${deploymentId}`, 'update', { id: deploymentId, status: 'running', error }));
  }

  /**
   * Starts the current version again: moves to `restarting` at once (stored,
   * logged, published) and starts in the background. The row as it now is, or
   * null when the lifecycle refused the move.
   */
  async restart(deploymentId: string): Promise<DeploymentRow | null> {
    const row = await this.move(deploymentId, 'restarting', null);
    if (row) this.launch(deploymentId).catch((error: unknown) => this.logger.pino.error({ err: error, deployment: deploymentId }, 'deployment did not restart'));
    return row;
  }

  /** Stops the deployment here; resolves once its processes are gone and it is stopped. */
  stop(deploymentId: string): Promise<void> {
    const live = this.liveOf(deploymentId);
    live.stopping ??= this.stopLive(deploymentId, live).finally(() => (live.stopping = undefined));
    return live.stopping;
  }

  private async stopLive(deploymentId: string, live: Live): Promise<void> {
    const generation = ++live.generation;
    clearTimeout(live.restartTimer);
    await this.move(deploymentId, 'stopping', null);
    await this.halt(live);
    await this.move(deploymentId, 'stopped', null);
    // A start asked for once it was stopped is under way: it is that start's now.
    if (live.generation !== generation) return;
    this.apps.delete(deploymentId);
    this.live.forget(deploymentId);
    await this.leases.release(deploymentId);
  }

  /** Stops it and forgets it (a deleted deployment); nothing is stored. */
  async remove(deploymentId: string): Promise<void> {
    await this.dropHere(deploymentId);
    await this.leases.release(deploymentId);
  }

  /** Stops what runs of it here and forgets it, touching nothing stored. */
  private async dropHere(deploymentId: string): Promise<void> {
    this.live.forget(deploymentId);
    const live = this.apps.get(deploymentId);
    if (!live) return;
    live.generation++;
    clearTimeout(live.restartTimer);
    this.apps.delete(deploymentId);
    await this.halt(live);
  }

  /**
   * Every third of the lease time: renews this replica's leases; stops here
   * what another replica took over meanwhile, and what the database says was
   * asked to stop (a stop whose message over the cluster bus was lost); takes
   * over what should run and nobody holds (its replica went away, or let go
   * when it shut down). Fencing: when no renewal has succeeded for a whole
   * lease time (the database is out of reach), the others may have taken the
   * apps over, so they stop here; once the database answers again, this
   * replica's leases are let go and the deployments are taken over afresh.
   */
  private async keepLeases(): Promise<void> {
    if (this.keeping || this.shuttingDown) return;
    this.keeping = true;
    const began = performance.now();
    try {
      if (this.fenced) {
        await this.leases.dropAll();
        this.fenced = false;
      }
      const ms = this.leases.ttlMs / 3;
      const renewal = await within(this.leases.renew(), ms, () => Promise.reject(new Error(`no answer within ${ms} ms`)));
      this.lastRenewed = began;
      const remaining = await this.deployments.existing(renewal.lost);
      for (const id of renewal.lost) {
        if (!remaining.has(id)) {
          // Deleted (its lease went with it) behind this replica's back: its app and files go.
          await this.dropHere(id);
          rmSync(this.deploymentDir(id), { recursive: true, force: true });
          continue;
        }
        if (!this.apps.has(id)) continue;
        this.platformLine(id, 'warn', 'another replica took this deployment over (this one did not renew its lease in time); stopped here');
        await this.dropHere(id);
      }
      for (const lease of renewal.held) {
        const live = this.apps.get(lease.deploymentId);
        if (lease.desiredState !== 'stopped' || live?.stopping) continue;
        // Nothing of it here: the lease only goes.
        if (!live) await this.leases.release(lease.deploymentId);
        // Recorded as stopped already (by a replica that found nobody holding it): only the app here goes.
        else if (lease.status === 'stopped') await this.remove(lease.deploymentId);
        else await this.stop(lease.deploymentId);
      }
      // The start-up's bring-back takes this replica's own first.
      if (this.bringingBack) return;
      for (const id of await this.leases.unheld()) {
        const row = await this.deployments.findById(id);
        // Not awaited: a start takes as long as its build and health check; the lease is this replica's from the first moment.
        if (row) void this.bringBackOne(row, 'the replica that ran it went away');
      }
    } catch (error) {
      this.logger.pino.warn({ err: error }, 'deployment leases not renewed');
      if (!this.fenced && performance.now() - this.lastRenewed >= this.leases.ttlMs) this.fence();
    } finally {
      this.keeping = false;
    }
  }

  /** The leases have lapsed without the database: every app here stops (another replica may run it by now). */
  private fence(): void {
    this.fenced = true;
    this.leases.forgetAll();
    const ids = [...this.apps.keys()];
    this.logger.pino.error({ deployments: ids.length }, 'deployment leases lapsed with the database out of reach: stopping this replica\'s apps');
    for (const id of ids) {
      this.platformLine(id, 'error', 'this replica lost the database for longer than its lease: stopped here, to be started again by whichever replica takes it');
      void this.dropHere(id);
    }
  }

  private async bringBack(): Promise<void> {
    try {
      const rows = await this.deployments.listDesiredRunning();
      for (const row of rows) {
        if (this.shuttingDown) return;
        // Failed ones stay failed until someone starts them; those another replica holds run there.
        if (row.status === 'failed') continue;
        await this.bringBackOne(row, 'the platform restarted');
      }
    } catch (error) {
      this.logger.pino.error({ err: error }, 'deployments not brought back');
    } finally {
      this.bringingBack = false;
    }
  }

  /** Starts a deployment that should run and does not, unless another replica holds it: whether it is started here. */
  private async bringBackOne(row: DeploymentRow, reason: string): Promise<boolean> {
    try {
      if (!(await this.leases.acquire(row.id))) return false;
      // Whatever it was (running, starting…), no process of it runs here.
      if (row.status !== 'pending' && row.status !== 'restarting') await this.move(row.id, 'restarting', reason);
      await this.launch(row.id);
    } catch (error) {
      this.logger.pino.error({ err: error, deployment: row.id }, 'deployment not brought back');
    }
    return true;
  }

  /**
   * The deployments.reconcile job (every minute; the start-up's bring-back
   * does the first): a deployment recorded as running whose app does not
   * serve here, or stuck on its way (building, starting, restarting) for longer
   * than a build, a health check and the longest backoff take, is started
   * again; an app of a deployment that no longer exists is stopped; a
   * deployment directory without a deployment (a create cut short, a delete
   * that did not finish) is removed once it is old enough not to be a create
   * in progress. Failed and stopped deployments stay so. What another replica
   * holds is that replica's to look after; a stop left half-done by a replica
   * that went away is finished (recorded as stopped).
   */
  reconcile(now = Date.now()): Promise<Reconciled> {
    this.reconciling ??= this.reconcileOnce(now).finally(() => (this.reconciling = undefined));
    return this.reconciling;
  }

  private async reconcileOnce(now: number): Promise<Reconciled> {
    const result: Reconciled = { brought_back: 0, stopped_orphans: 0, removed_directories: 0, settled_stops: 0 };
    if (this.shuttingDown) return result;
    if (!this.bringingBack) {
      const { buildTimeoutMs, healthTimeoutMs } = this.config.deployments;
      const stuckMs = buildTimeoutMs + healthTimeoutMs + MAX_BACKOFF_MS + 60_000;
      const elsewhere = await this.leases.heldElsewhere();
      for (const row of await this.deployments.listDesiredRunning()) {
        if (elsewhere.has(row.id)) continue;
        const lost = row.status === 'running' ? !this.apps.get(row.id)?.ready : row.status !== 'failed' && row.status !== 'stopped' && now - row.updatedAt.getTime() > stuckMs;
        if (!lost) continue;
        if (await this.bringBackOne(row, row.status === 'running' ? 'it was not running' : `it was ${row.status} for too long`)) result.brought_back++;
      }
      for (const id of await this.leases.stranded()) {
        await this.stop(id);
        result.settled_stops++;
      }
    }
    const known = await this.deployments.existing([...this.apps.keys()]);
    for (const id of [...this.apps.keys()]) {
      if (known.has(id)) continue;
      result.stopped_orphans++;
      await this.remove(id);
      // Its files go too: it was a deployment, not a create in progress.
      if (existsSync(this.deploymentDir(id))) result.removed_directories++;
      rmSync(this.deploymentDir(id), { recursive: true, force: true });
    }
    const root = join(this.config.dataDir, 'deployments');
    const names = existsSync(root) ? readdirSync(root).filter((name) => UUID.test(name)) : [];
    const withRows = await this.deployments.existing(names);
    for (const name of names) {
      const dir = join(root, name);
      if (withRows.has(name) || this.apps.has(name) || now - statSync(dir).mtimeMs < ORPHAN_AGE_MS) continue;
      rmSync(dir, { recursive: true, force: true });
      result.removed_directories++;
    }
    return result;
  }

  /**
   * Runs a build command in the app's sandbox layout (its own network
   * namespace: dependencies must come with the files) under the build timeout:
   * the failure, or null. `hold`: the deployment whose stop must be able to
   * kill the build (a first start); a build beside a running version is not
   * held there — the running version is.
   */
  private async build(deploymentId: string, appDir: string, runName: string, label: string, command: string, env: Record<string, string>, hold?: Live): Promise<string | null> {
    this.platformLine(deploymentId, 'info', `${label}: ${command}`);
    const builder = await this.sandbox(deploymentId, appDir, runName, 0, command, env).catch((error: Error) => error);
    if (builder instanceof Error) return `the build could not start: ${builder.message}`;
    if (hold) hold.sandbox = builder;
    const timer = setTimeout(() => void builder.stop(), this.config.deployments.buildTimeoutMs);
    const exit = await builder.exited;
    clearTimeout(timer);
    if (hold?.sandbox === builder) hold.sandbox = null;
    if (exit.code === 0) return null;
    if (exit.outOfMemory) return 'the build ran out of memory';
    return exit.signal === 'SIGKILL' ? `the build did not finish within ${this.config.deployments.buildTimeoutMs / 1000} s` : `the build failed (exit code ${exit.code})`;
  }

  private noAnswer(healthPath: string): string {
    return `did not answer GET ${healthPath} within ${this.config.deployments.healthTimeoutMs / 1000} s`;
  }

  private async crashed(deploymentId: string, live: Live, generation: number, status: string): Promise<void> {
    if (live.generation !== generation || this.shuttingDown) return;
    live.ready = false;
    live.sandbox = null;
    const now = Date.now();
    live.crashes = [...live.crashes.filter((at) => now - at < this.config.deployments.crashWindowMs), now];
    const { maxCrashes, crashWindowMs } = this.config.deployments;
    if (live.crashes.length >= maxCrashes) {
      return void (await this.move(deploymentId, 'failed', `the app exited (${status}) ${live.crashes.length} times within ${crashWindowMs / 1000} s`));
    }
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** (live.crashes.length - 1));
    await this.move(deploymentId, 'restarting', `the app exited (${status}); starting it again in ${delay / 1000} s`);
    live.restartTimer = setTimeout(() => {
      if (live.generation === generation) void this.launch(deploymentId, true).catch((error: unknown) => this.logger.pino.error({ err: error, deployment: deploymentId }, 'deployment not restarted'));
    }, delay);
  }

  /** Starts a sandbox for the app on a uid of its own, in cgroups with its owner's plan's memory. */
  private async sandbox(deploymentId: string, appDir: string, runName: string, port: number, command: string, env: Record<string, string>): Promise<AppSandbox> {
    this.layout ??= readSandboxLayout([process.execPath, this.config.execution.pythonBinary]);
    const runDir = join(this.deploymentDir(deploymentId), runName);
    mkdirSync(runDir, { recursive: true });
    const memoryBytes = await this.resources.memoryBytesOf(this.liveOf(deploymentId).ownerId);
    const slot = await this.resources.acquire(memoryBytes, [appDir, runDir]);
    try {
      return AppSandbox.start({
        bwrapBinary: this.config.execution.bwrapBinary,
        layout: this.layout,
        tmpfsBytes: this.config.deployments.tmpfsBytes,
        appDir,
        runDir,
        slot,
        outbound: this.config.deployments.outbound === 'internet' ? { pythonBinary: this.config.execution.pythonBinary, timeoutMs: OUTBOUND_TIMEOUT_MS } : undefined,
        port: port || 8080,
        command,
        env,
        onLine: (line: OutputLine) =>
          this.log({ deploymentId, source: line.stream, level: line.stream === 'stderr' ? 'warn' : 'info', message: line.text, truncated: line.truncated }),
        pressure: this.logs,
      });
    } catch (error) {
      await slot.release();
      throw error;
    }
  }

  private envOf(version: VersionRow): Record<string, string> {
    try {
      return this.versions.envOf(version);
    } catch (error) {
      this.logger.pino.error({ err: error, deployment: version.deploymentId }, 'deployment variables cannot be opened');
      return {};
    }
  }

  /** Stores a status if the lifecycle allows the move: the row, or null (and nothing done) if not. */
  private async move(deploymentId: string, status: DeploymentStatus, error: string | null): Promise<DeploymentRow | null> {
    // The database goes with the platform; what should run is recorded already.
    if (this.shuttingDown) return null;
    const current = await this.deployments.findById(deploymentId);
    if (!current) return null;
    if (current.status !== status && !canMove(current.status, status)) {
      this.logger.pino.warn({ deployment: deploymentId, from: current.status, to: status }, 'deployment status move refused');
      return null;
    }
    const row = await this.deployments.setStatus(deploymentId, status, error);
    if (!row) return null;
    this.platformLine(deploymentId, status === 'failed' ? 'error' : 'info', `status: ${status}${error ? ` (${error})` : ''}`);
    this.events.publish(new RealtimeEvent(`deployment:${deploymentId}`, 'update', { id: deploymentId, status, error }));
    if (status === 'running' || status === 'failed' || status === 'stopped') {
      const title = status === 'failed' ? `Deployment “${row.name}” failed` : `Deployment “${row.name}” is ${status}`;
      this.commands
        .execute(new CreateNotificationCommand(row.userId, 'deployment_status', title, error ?? '', { deployment_id: deploymentId, status }))
        .catch((failure: unknown) => this.logger.pino.warn({ err: failure }, 'deployment notification not stored'));
    }
    return row;
  }

  private platformLine(deploymentId: string, level: DeploymentLogLine['level'], message: string): void {
    this.log({ deploymentId, source: 'platform', level, message, truncated: false });
  }

  /**
   * Stores a line (DeploymentLogWriter: cut, rate-limited, batched) and
   * publishes it live — an output line only if it was stored and the live
   * view's budget allows (LiveLogLimiter); the lines of one event-loop turn go
   * to the bus as one event (a flooding app prints thousands a turn).
   */
  private log(line: DeploymentLogLine): void {
    const stored = this.logs.append(line.deploymentId, line);
    if (line.source !== 'platform' && (!stored || !this.live.admit(line.deploymentId))) return;
    this.publishLive(line);
  }

  private publishLive(line: DeploymentLogLine): void {
    const { deploymentId, ...rest } = line;
    this.liveLines.push(new RealtimeEvent(`deployment:${deploymentId}`, 'log', { timestamp: new Date().toISOString(), ...rest }));
    if (this.liveLines.length === 1) {
      setImmediate(() => {
        const lines = this.liveLines;
        this.liveLines = [];
        this.events.publish(new RealtimeBatchEvent(lines));
      });
    }
  }

  private liveOf(deploymentId: string): Live {
    let live = this.apps.get(deploymentId);
    if (!live) this.apps.set(deploymentId, (live = { sandbox: null, ready: false, generation: 0, crashes: [], ownerId: '', private: true }));
    return live;
  }

  private async halt(live: Live): Promise<void> {
    live.ready = false;
    const sandbox = live.sandbox;
    live.sandbox = null;
    await sandbox?.stop();
  }

  /** The apps serving on this replica (answering the proxy) with their sandbox's process: what metrics sample. */
  liveApps(): LiveApp[] {
    return [...this.apps].flatMap(([deploymentId, live]) => {
      const sandbox = live.ready ? live.sandbox : null;
      const pid = sandbox?.pid;
      return pid !== undefined && sandbox ? [{ deploymentId, pid, appDir: sandbox.appDir, ownerId: live.ownerId, uid: sandbox.uid, memoryLimitBytes: sandbox.memoryLimitBytes }] : [];
    });
  }
}
