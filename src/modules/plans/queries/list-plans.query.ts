import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { PlanEntity } from '../entities/plan.entity';
import { PlanLimits } from '../plan-limits';
import { toPlanLimits } from '../plan.mapper';

export class ListPlansQuery extends Query<PlanLimits[]> {}

@QueryHandler(ListPlansQuery)
export class ListPlansHandler implements IQueryHandler<ListPlansQuery> {
  constructor(@InjectRepository(PlanEntity) private readonly plans: Repository<PlanEntity>) {}

  async execute(): Promise<PlanLimits[]> {
    const plans = await this.plans.find({ order: { sortOrder: 'ASC' } });
    return plans.map(toPlanLimits);
  }
}
