import { randomUUID } from 'node:crypto';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppError, ErrorDetails } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { ClusterBus } from '../../../common/events/cluster-bus';
import { AppLogger } from '../../../common/logging/app-logger';
import type { DeploymentStatus } from '../deployment-state';
import { DeploymentLeases } from './deployment-leases';
import { DeploymentRunner } from './deployment-runner';

/** What a command asks of the replica running a deployment. */
export type RunnerAction = { kind: 'restart' | 'stop' | 'remove'; id: string } | { kind: 'redeploy'; id: string; version: number };

const REQUEST_TOPIC = 'deployments.request';
const REPLY_TOPIC = 'deployments.reply';

/** How long an answer may take: a stop answers once the app's processes are gone, the others once begun. */
const STOP_TIMEOUT_MS = 30_000;
const BEGIN_TIMEOUT_MS = 10_000;

interface Request {
  requestId: string;
  to: string;
  action: RunnerAction;
}

interface Reply {
  requestId: string;
  /** The replica no longer holds the deployment (it lost the lease meanwhile, or is shutting down): ask again. */
  notHolder?: boolean;
  /** The status the command moved the deployment to (a restart: `restarting`), if it moved it. */
  status?: DeploymentStatus;
  /** What the command failed with there: an AppError's code, message and details, rebuilt here. */
  error?: { code: string; message: string; details?: ErrorDetails };
}

/**
 * Where a command on a deployment is carried out: on this replica when it
 * holds the deployment's lease or nobody does (DeploymentRunner here), else on
 * the replica that holds it, asked over the cluster bus, whose answer comes
 * back the same way (an error there is the same error here). A stop or delete
 * answers once the app is gone there; a restart or a new version once it has
 * begun. A holder whose lease has lapsed is not asked: its lease is taken
 * first and the command carried out here (back, it finds the deployment is no
 * longer its own). A holder that does not answer in time is a 503; the
 * database still says what is wanted (a stop's desired state, for one), and
 * the holder acts on it at its next renewal.
 */
@Injectable()
export class DeploymentControl implements OnModuleInit {
  private readonly waiting = new Map<string, (reply: Reply | null) => void>();

  constructor(
    private readonly runner: DeploymentRunner,
    private readonly leases: DeploymentLeases,
    private readonly bus: ClusterBus,
    private readonly logger: AppLogger,
  ) {}

  onModuleInit(): void {
    this.bus.subscribe(REQUEST_TOPIC, (payload) => void this.answer(JSON.parse(payload) as Request));
    this.bus.subscribe(REPLY_TOPIC, (payload) => {
      const reply = JSON.parse(payload) as Reply;
      this.waiting.get(reply.requestId)?.(reply);
    });
  }

  /**
   * Starts the current version again: the status it moved the deployment to
   * (`restarting`; the start goes on from there), or undefined when the
   * lifecycle refused.
   */
  restart(id: string): Promise<DeploymentStatus | undefined> {
    return this.carry({ kind: 'restart', id });
  }

  /** Stops the deployment; answers once its app is gone. */
  async stop(id: string): Promise<void> {
    await this.carry({ kind: 'stop', id });
  }

  /** Stops the deployment's app before it is deleted. */
  async remove(id: string): Promise<void> {
    await this.carry({ kind: 'remove', id });
  }

  /** Puts a version in place (without downtime when it runs); the switch goes on after this answers. */
  async redeploy(id: string, version: number): Promise<void> {
    await this.carry({ kind: 'redeploy', id, version });
  }

  private async carry(action: RunnerAction): Promise<DeploymentStatus | undefined> {
    // Three tries at most: a holder that lost the lease while it was asked sends the command to whoever holds it now.
    for (let attempt = 0; attempt < 3; attempt++) {
      const holder = await this.leases.holder(action.id);
      if (!holder || holder.replicaId === this.leases.replicaId) return this.here(action);
      // A lapsed holder's lease is taken first: once it is back it finds the deployment is not its own any more, instead of renewing and running on.
      if (!holder.live) {
        if (await this.leases.acquire(action.id)) return this.here(action);
        continue;
      }
      const reply = await this.ask(holder.replicaId, action);
      if (!reply) break;
      if (reply.error) throw rebuilt(reply.error);
      if (!reply.notHolder) return reply.status;
    }
    throw new AppError(ErrorCode.SERVICE_UNAVAILABLE, 'The replica running this deployment did not answer; try again shortly');
  }

  /** Does it on this replica: a stop or delete to the end, a restart until it is under way, a new version in the background. */
  private async here(action: RunnerAction): Promise<DeploymentStatus | undefined> {
    switch (action.kind) {
      case 'restart':
        return (await this.runner.restart(action.id))?.status;
      case 'stop':
        await this.runner.stop(action.id);
        return undefined;
      case 'remove':
        await this.runner.remove(action.id);
        return undefined;
      case 'redeploy':
        this.runner.redeploy(action.id, action.version).catch((error: unknown) => this.logger.pino.error({ err: error, deployment: action.id }, 'new version not put in place'));
        return undefined;
    }
  }

  private ask(replicaId: string, action: RunnerAction): Promise<Reply | null> {
    const requestId = randomUUID();
    const timeoutMs = action.kind === 'stop' || action.kind === 'remove' ? STOP_TIMEOUT_MS : BEGIN_TIMEOUT_MS;
    return new Promise<Reply | null>((resolve) => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (reply: Reply | null) => {
        clearTimeout(timer);
        this.waiting.delete(requestId);
        resolve(reply);
      };
      this.waiting.set(requestId, done);
      this.bus.publish(REQUEST_TOPIC, JSON.stringify({ requestId, to: replicaId, action } satisfies Request)).catch(() => done(null));
    });
  }

  /** A command another replica sends to this one, as the holder of the deployment's lease. */
  private async answer(request: Request): Promise<void> {
    if (request.to !== this.leases.replicaId) return;
    let reply: Reply;
    try {
      const holder = await this.leases.holder(request.action.id);
      // Shutting down, it would do nothing: the asker waits for the lease to go and acts itself.
      if (holder?.replicaId !== this.leases.replicaId || this.runner.closing) reply = { requestId: request.requestId, notHolder: true };
      else {
        reply = { requestId: request.requestId, status: await this.here(request.action) };
      }
    } catch (error) {
      if (!(error instanceof AppError)) this.logger.pino.error({ err: error, deployment: request.action.id }, 'a deployment command from another replica failed');
      const { code, message, details } = error instanceof AppError ? error : { code: ErrorCode.INTERNAL_ERROR, message: 'The replica running this deployment failed to carry out the command', details: undefined };
      reply = { requestId: request.requestId, error: { code, message, details } };
    }
    await this.bus.publish(REPLY_TOPIC, JSON.stringify(reply)).catch((error: unknown) => this.logger.pino.warn({ err: error }, 'deployment command answer not sent'));
  }
}

/** The error a holder answered with, as this replica throws it (an unknown code: an internal error). */
function rebuilt(error: NonNullable<Reply['error']>): AppError {
  const code = (Object.values(ErrorCode) as string[]).includes(error.code) ? (error.code as ErrorCode) : ErrorCode.INTERNAL_ERROR;
  return new AppError(code, error.message, error.details);
}
