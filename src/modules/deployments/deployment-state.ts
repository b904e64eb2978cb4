import { AppError } from '../../common/errors/app-error';

export const DEPLOYMENT_STATUSES = ['pending', 'building', 'starting', 'running', 'stopping', 'stopped', 'failed', 'restarting'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/**
 * The lifecycle, one place: which status may follow which. `restarting` is a
 * crash being retried (or a restart asked for); `failed` and `stopped` are
 * rests a start (or restart) leaves again.
 */
const NEXT: Record<DeploymentStatus, readonly DeploymentStatus[]> = {
  pending: ['building', 'starting', 'stopping', 'failed'],
  building: ['starting', 'failed', 'stopping', 'restarting'],
  starting: ['running', 'failed', 'stopping', 'restarting'],
  running: ['restarting', 'stopping', 'failed'],
  restarting: ['building', 'starting', 'failed', 'stopping'],
  stopping: ['stopped'],
  stopped: ['pending', 'restarting'],
  failed: ['pending', 'restarting', 'stopping'],
};

export function canMove(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return NEXT[from].includes(to);
}

/** Refuses an illegal move with 409 CONFLICT, naming both states. */
export function assertMove(from: DeploymentStatus, to: DeploymentStatus): void {
  if (!canMove(from, to)) throw AppError.conflict(`A deployment that is ${from} cannot be ${to === 'stopping' ? 'stopped' : to}`, { status: from });
}
