import { PlanLimits } from '../plan-limits';

/** Published after an admin changed a plan's limits. */
export class PlanUpdatedEvent {
  constructor(readonly plan: PlanLimits) {}
}
