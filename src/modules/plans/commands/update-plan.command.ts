import { Command, CommandHandler, EventBus, ICommandHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { PlanEntity } from '../entities/plan.entity';
import { PlanUpdatedEvent } from '../events/plan-updated.event';
import { PlanLimits } from '../plan-limits';
import { toPlanLimits } from '../plan.mapper';

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
    @InjectRepository(PlanEntity) private readonly plans: Repository<PlanEntity>,
    private readonly events: EventBus,
  ) {}

  async execute({ planId, changes }: UpdatePlanCommand): Promise<PlanLimits> {
    const plan = await this.plans.findOneBy({ id: planId });
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
    set('deploymentsPerDay', changes.deployments_per_day);
    set('maxRunningDeployments', changes.max_running_deployments);
    set('storageBytes', changes.storage_bytes);
    set('maxUploadBytes', changes.max_upload_bytes);
    set('requestsPerMinute', changes.requests_per_minute);
    set('requestsPerHour', changes.requests_per_hour);
    const saved = toPlanLimits(await this.plans.save(plan));
    this.events.publish(new PlanUpdatedEvent(saved));
    return saved;
  }
}
