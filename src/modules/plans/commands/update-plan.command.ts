import { Command, CommandHandler, EventBus, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { PlanEntity } from '../entities/plan.entity';
import { PlanUpdatedEvent } from '../events/plan-updated.event';
import { PlanCache } from '../plan-cache';
import { PlanLimits } from '../plan-limits';
import { toPlanLimits } from '../plan.mapper';
import { PlanRepository } from '../repositories/plan.repository';

const PLAN_ID = /^[A-Za-z0-9_-]{1,20}$/;

/** Only the given fields change; null sets a limit to unlimited. */
export type PlanChanges = Partial<Omit<PlanLimits, 'id'>>;

export class UpdatePlanCommand extends Command<PlanLimits> {
  constructor(
    readonly planId: string,
    readonly changes: PlanChanges,
  ) {
    super();
  }
}

@CommandHandler(UpdatePlanCommand)
export class UpdatePlanHandler implements ICommandHandler<UpdatePlanCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly plans: PlanRepository,
    private readonly events: EventBus,
    private readonly cache: PlanCache,
  ) {}

  async execute({ planId, changes }: UpdatePlanCommand): Promise<PlanLimits> {
    // Plan ids are short slugs; anything else (e.g. a NUL byte PostgreSQL rejects) cannot name one.
    if (!PLAN_ID.test(planId)) throw AppError.notFound('Plan');
    // Locking the row serialises concurrent edits, so one admin's change never overwrites another's.
    const saved = await this.dataSource.transaction(async (manager) => {
      const plan = await this.plans.lockForUpdate(planId, manager);
      if (!plan) throw AppError.notFound('Plan');
      const set = <K extends keyof PlanEntity>(key: K, value: PlanEntity[K] | undefined) => {
        if (value !== undefined) plan[key] = value;
      };
      set('name', changes.name);
      set('executionTimeoutSeconds', changes.execution_timeout_seconds);
      set('executionMemoryMb', changes.execution_memory_mb);
      set('executionsPerDay', changes.executions_per_day);
      set('apiExecutionsPerDay', changes.api_executions_per_day);
      set('maxApiKeys', changes.max_api_keys);
      set('maxEnvironments', changes.max_environments);
      set('maxConcurrentExecutions', changes.max_concurrent_executions);
      set('deploymentsPerDay', changes.deployments_per_day);
      set('maxRunningDeployments', changes.max_running_deployments);
      set('deploymentMemoryMb', changes.deployment_memory_mb);
      set('storageBytes', changes.storage_bytes);
      set('maxUploadBytes', changes.max_upload_bytes);
      set('requestsPerMinute', changes.requests_per_minute);
      set('requestsPerHour', changes.requests_per_hour);
      set('aiRequestsPerDay', changes.ai_requests_per_day);
      set('aiTokensPerMonth', changes.ai_tokens_per_month);
      return toPlanLimits(await this.plans.save(plan, manager));
    });
    await this.cache.changed(saved.id);
    this.events.publish(new PlanUpdatedEvent(saved));
    return saved;
  }
}
