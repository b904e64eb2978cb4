import type { PlanLimits } from '../plans/queries/get-plan.query';
import type { AppConfig } from '../../config/app-config';
import type { RunLimits } from './sandbox/sandbox';

/** Admins are not limited by plan: they get the largest default plan's limits. */
export const ADMIN_LIMITS = { timeoutMs: 60_000, memoryMb: 1024 } as const;

export interface RequestedLimits {
  timeout_ms?: number;
  memory_mb?: number;
}

/**
 * The limits a run gets: the plan's (or the admin's), lowered by the request.
 * Asking for more than the plan allows is a validation error on that field.
 */
export function resolveLimits(
  plan: Pick<PlanLimits, 'execution_timeout_seconds' | 'execution_memory_mb'> | 'admin',
  requested: RequestedLimits,
  execution: AppConfig['execution'],
): { limits: RunLimits; problems: Record<string, string[]> } {
  const maxTimeout = plan === 'admin' ? ADMIN_LIMITS.timeoutMs : plan.execution_timeout_seconds * 1000;
  const maxMemory = plan === 'admin' ? ADMIN_LIMITS.memoryMb : plan.execution_memory_mb;
  const problems: Record<string, string[]> = {};
  if (requested.timeout_ms !== undefined && requested.timeout_ms > maxTimeout) {
    problems.timeout_ms = [`timeout_ms must not exceed ${maxTimeout}, your plan's limit`];
  }
  if (requested.memory_mb !== undefined && requested.memory_mb > maxMemory) {
    problems.memory_mb = [`memory_mb must not exceed ${maxMemory}, your plan's limit`];
  }
  return {
    problems,
    limits: {
      wallMs: Math.min(requested.timeout_ms ?? maxTimeout, maxTimeout),
      memoryMb: Math.min(requested.memory_mb ?? maxMemory, maxMemory),
      processes: execution.processes,
      fileSizeBytes: execution.fileSizeBytes,
      openFiles: execution.openFiles,
      captureBytes: execution.captureBytes,
      totalOutputBytes: execution.totalOutputBytes,
    },
  };
}

/** The next UTC midnight, when daily quotas reset. */
export function nextUtcMidnight(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}
