import { refill, TokenBucket } from './token-bucket';

/** Output lines a deployment sends out live per second, bursts up to twice that. */
export const LIVE_LINES_PER_SECOND = 200;

/** One deployment's live budget: lines it may still send now, when that was computed, and lines held back since the last note. */
interface Budget extends TokenBucket {
  held: number;
  timer?: NodeJS.Timeout;
}

/**
 * Which output lines go out live (the deployment:<id> channel, its
 * logs/stream): a person reads a few hundred lines a second at most, and a
 * flooding app prints tens of thousands — each of them sent to every replica
 * over the cluster bus. Beyond LIVE_LINES_PER_SECOND a deployment's lines are
 * held back from the live view only (every stored line stays in GET
 * /deployments/<id>/logs), and a second later `held(deploymentId, count)`
 * says how many, once.
 */
export class LiveLogLimiter {
  private readonly budgets = new Map<string, Budget>();

  constructor(private readonly held: (deploymentId: string, count: number) => void) {}

  /** Whether this line goes out live now. */
  admit(deploymentId: string, now = Date.now()): boolean {
    let budget = this.budgets.get(deploymentId);
    if (!budget) this.budgets.set(deploymentId, (budget = { tokens: 2 * LIVE_LINES_PER_SECOND, at: now, held: 0 }));
    refill(budget, now, LIVE_LINES_PER_SECOND, 2 * LIVE_LINES_PER_SECOND);
    if (budget.tokens >= 1) {
      budget.tokens -= 1;
      return true;
    }
    budget.held++;
    budget.timer ??= setTimeout(() => this.tell(deploymentId), 1000).unref();
    return false;
  }

  /** The deployment is gone from this replica: its budget too (a count not yet told is let go). */
  forget(deploymentId: string): void {
    clearTimeout(this.budgets.get(deploymentId)?.timer);
    this.budgets.delete(deploymentId);
  }

  private tell(deploymentId: string): void {
    const budget = this.budgets.get(deploymentId);
    if (!budget) return;
    budget.timer = undefined;
    const count = budget.held;
    budget.held = 0;
    if (count > 0) this.held(deploymentId, count);
  }
}
