import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { PlanCache } from '../plan-cache';
import { PlanLimits } from '../plan-limits';
import { toPlanLimits } from '../plan.mapper';
import { PlanRepository } from '../repositories/plan.repository';

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
    private readonly plans: PlanRepository,
    private readonly cache: PlanCache,
  ) {}

  async execute({ planId }: GetPlanQuery): Promise<PlanLimits | null> {
    return this.cache.get(planId, async () => {
      const plan = await this.plans.findById(planId);
      return plan ? toPlanLimits(plan) : null;
    });
  }
}
