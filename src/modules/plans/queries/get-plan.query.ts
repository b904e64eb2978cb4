import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PlanEntity } from '../entities/plan.entity';
import { PlanCache } from '../plan-cache';
import { PlanLimits } from '../plan-limits';
import { toPlanLimits } from '../plan.mapper';

/** One plan's limits, or null for an unknown id; cached (see PlanCache). Other contexts use this. */
export type { PlanLimits };

export class GetPlanQuery extends Query<PlanLimits | null> {
  constructor(readonly planId: string) {
    super();
  }
}

@QueryHandler(GetPlanQuery)
export class GetPlanHandler implements IQueryHandler<GetPlanQuery> {
  constructor(
    @InjectRepository(PlanEntity) private readonly plans: Repository<PlanEntity>,
    private readonly cache: PlanCache,
  ) {}

  async execute({ planId }: GetPlanQuery): Promise<PlanLimits | null> {
    return this.cache.get(planId, async () => {
      const plan = await this.plans.findOneBy({ id: planId });
      return plan ? toPlanLimits(plan) : null;
    });
  }
}
