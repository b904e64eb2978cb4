import { Injectable } from '@nestjs/common';
import { EventsHandler, IEventHandler, QueryBus } from '@nestjs/cqrs';
import { PlanUpdatedEvent } from '../plans/events/plan-updated.event';
import { GetPlanQuery, PlanLimits } from '../plans/queries/get-plan.query';

const TTL_MS = 30_000;

/**
 * Plans change rarely and are read on every request: kept for 30 s, and dropped
 * at once on this replica when an admin edits one (other replicas within 30 s).
 */
@Injectable()
@EventsHandler(PlanUpdatedEvent)
export class PlanLimitsCache implements IEventHandler<PlanUpdatedEvent> {
  private readonly plans = new Map<string, { plan: PlanLimits | null; at: number }>();

  constructor(private readonly queries: QueryBus) {}

  handle(event: PlanUpdatedEvent): void {
    this.plans.delete(event.plan.id);
  }

  async get(planId: string): Promise<PlanLimits | null> {
    const cached = this.plans.get(planId);
    if (cached && Date.now() - cached.at < TTL_MS) return cached.plan;
    const plan = await this.queries.execute(new GetPlanQuery(planId));
    this.plans.set(planId, { plan, at: Date.now() });
    return plan;
  }
}
