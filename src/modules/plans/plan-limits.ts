/** A plan's limits as other contexts see them (null = unlimited). */
export interface PlanLimits {
  id: string;
  name: string;
  execution_timeout_seconds: number;
  execution_memory_mb: number;
  executions_per_day: number | null;
  api_executions_per_day: number | null;
  max_api_keys: number | null;
  max_environments: number | null;
  /** Runs of one user at once; more wait in the queue (null: as many as the worker pool has). */
  max_concurrent_executions: number | null;
  deployments_per_day: number | null;
  max_running_deployments: number | null;
  /** Memory of one deployed app's process tree (its memory cgroup). */
  deployment_memory_mb: number;
  storage_bytes: number | null;
  max_upload_bytes: number | null;
  requests_per_minute: number | null;
  requests_per_hour: number | null;
  /** AI requests (chat, code generation, gateway) per UTC day. */
  ai_requests_per_day: number | null;
  /** AI tokens (prompt + completion) per UTC month. */
  ai_tokens_per_month: number | null;
}

export const PLAN_LIMIT_FIELDS = [
  'execution_timeout_seconds',
  'execution_memory_mb',
  'executions_per_day',
  'api_executions_per_day',
  'max_api_keys',
  'max_environments',
  'max_concurrent_executions',
  'deployments_per_day',
  'max_running_deployments',
  'deployment_memory_mb',
  'storage_bytes',
  'max_upload_bytes',
  'requests_per_minute',
  'requests_per_hour',
  'ai_requests_per_day',
  'ai_tokens_per_month',
] as const;
