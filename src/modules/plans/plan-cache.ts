import { Injectable } from '@nestjs/common';
import { EventsHandler, IEventHandler } from '@nestjs/cqrs';
import { PlanUpdatedEvent } from './events/plan-updated.event';
import { PlanLimits } from './plan-limits';

const TTL_MS = 30_000;

/**
 * Plans change rarely and are read on every limited request and every run:
 * GetPlanQuery answers from here for 30 s, and an edit drops the entry at once
 * on this replica (on the others within 30 s).
 */
@Injectable()
@EventsHandler(PlanUpdatedEvent)
export class PlanCache implements IEventHandler<PlanUpdatedEvent> {
  private readonly plans = new Map<string, { plan: PlanLimits | null; at: number }>();

  handle(event: PlanUpdatedEvent): void {
    this.plans.delete(event.plan.id);
  }

  async get(planId: string, load: () => Promise<PlanLimits | null>): Promise<PlanLimits | null> {
    const cached = this.plans.get(planId);
    if (cached && Date.now() - cached.at < TTL_MS) return cached.plan;
    const plan = await load();
    this.plans.set(planId, { plan, at: Date.now() });
    return plan;
  }
}
