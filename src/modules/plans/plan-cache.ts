import { Injectable, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { ClusterBus } from '../../common/events/cluster-bus';
import { PlanLimits } from './plan-limits';

const TTL_MS = 30_000;
/** Plans are a handful of rows; the bound only guards against a flood of unknown ids. */
const MAX_PLANS = 1000;
const PLAN_CHANGED = 'plan.changed';

/** A cached lookup result: null for an id that names no plan (cached too, so unknown ids cost one query per TTL). */
type Cached = { plan: PlanLimits | null };

/**
 * Plans change rarely and are read on every limited request and every run:
 * GetPlanQuery answers from here for 30 s. An edit drops the plan at once on
 * every replica through the cluster bus (the TTL only bounds what a missed
 * message costs).
 */
@Injectable()
export class PlanCache implements OnModuleInit {
  private readonly plans = new LRUCache<string, Cached>({ max: MAX_PLANS, ttl: TTL_MS });

  constructor(private readonly bus: ClusterBus) {}

  onModuleInit(): void {
    this.bus.subscribe(PLAN_CHANGED, (planId) => this.plans.delete(planId));
  }

  /** Drops a plan here and on the other replicas. */
  changed(planId: string): Promise<void> {
    return this.bus.publish(PLAN_CHANGED, planId);
  }

  async get(planId: string, load: () => Promise<PlanLimits | null>): Promise<PlanLimits | null> {
    const cached = this.plans.get(planId);
    if (cached) return cached.plan;
    const plan = await load();
    this.plans.set(planId, { plan });
    return plan;
  }
}
