import type { OutputStream, RunOutcome, SandboxJob } from './sandbox';
import type { ExecutionOptions, RuntimeVersion, SandboxStatus } from './sandbox-fleet';

/** Messages from the API process to the sandbox host. */
export type ToHost =
  | { type: 'start'; options: ExecutionOptions }
  | { type: 'run'; id: number; job: SandboxJob }
  | { type: 'cancel'; id: number }
  | { type: 'stats'; id: number }
  | { type: 'stop' };

/** Messages from the sandbox host to the API process. */
export type FromHost =
  | { type: 'started'; status: SandboxStatus; runtimes: RuntimeVersion[] }
  | { type: 'output'; id: number; stream: OutputStream; text: string }
  | { type: 'outcome'; id: number; outcome: RunOutcome }
  | { type: 'stats'; id: number; warmSandboxes: number }
  | { type: 'warning'; message: string }
  | { type: 'stopped' };
