import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { PlanLimits } from '../plan-limits';
import { toPlanLimits } from '../plan.mapper';
import { PlanRepository } from '../repositories/plan.repository';

export class ListPlansQuery extends Query<PlanLimits[]> {}

@QueryHandler(ListPlansQuery)
export class ListPlansHandler implements IQueryHandler<ListPlansQuery> {
  constructor(private readonly plans: PlanRepository) {}

  async execute(): Promise<PlanLimits[]> {
    const plans = await this.plans.listInOrder();
    return plans.map(toPlanLimits);
  }
}
