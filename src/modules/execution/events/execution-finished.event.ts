import type { ExecutionStatus } from '../entities/execution.entity';
import type { Language } from '../sandbox/sandbox';

/**
 * Published on the CQRS EventBus of the replica that ran it when a background
 * run (`POST /execute?wait=false`) has reached its final status and stored it:
 * the notifications context tells its owner. Not for runs whose caller waits
 * for the result or streams it (they have the answer already), nor for a
 * replayed Idempotency-Key, nor for runs the executions.reap job marks as
 * internal_error after their replica died.
 */
export class ExecutionFinishedEvent {
  constructor(
    readonly execution_id: string,
    readonly user_id: string,
    readonly status: ExecutionStatus,
    readonly language: Language,
    readonly exit_code: number | null,
    /** The run's wall time; absent when it never ran (stopped while queued). */
    readonly duration_ms?: number,
  ) {}
}
