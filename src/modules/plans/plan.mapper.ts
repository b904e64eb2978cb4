import { PlanEntity } from './entities/plan.entity';
import { PlanLimits } from './plan-limits';

export function toPlanLimits(plan: PlanEntity): PlanLimits {
  return {
    id: plan.id,
    name: plan.name,
    execution_timeout_seconds: plan.executionTimeoutSeconds,
    execution_memory_mb: plan.executionMemoryMb,
    executions_per_day: plan.executionsPerDay,
    api_executions_per_day: plan.apiExecutionsPerDay,
    max_api_keys: plan.maxApiKeys,
    max_environments: plan.maxEnvironments,
    max_concurrent_executions: plan.maxConcurrentExecutions,
    deployments_per_day: plan.deploymentsPerDay,
    max_running_deployments: plan.maxRunningDeployments,
    deployment_memory_mb: plan.deploymentMemoryMb,
    storage_bytes: plan.storageBytes,
    max_upload_bytes: plan.maxUploadBytes,
    requests_per_minute: plan.requestsPerMinute,
    requests_per_hour: plan.requestsPerHour,
    ai_requests_per_day: plan.aiRequestsPerDay,
    ai_tokens_per_month: plan.aiTokensPerMonth,
  };
}
