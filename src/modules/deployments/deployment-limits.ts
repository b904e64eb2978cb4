import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Principal } from '../../common/auth/principal';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { GetPlanQuery } from '../plans/queries/get-plan.query';
import type { OwnerCounts } from './repositories/deployment.repository';

/**
 * The caller's plan's deployment limits, as a check the repository runs
 * under the owner's lock: deployments_per_day (429 QUOTA_EXCEEDED) and
 * max_running_deployments (403 FORBIDDEN: stop one first). Null limits are
 * unlimited; admins are exempt.
 */
@Injectable()
export class DeploymentLimits {
  constructor(private readonly queries: QueryBus) {}

  /** The check for a new deployment (it will run too). */
  async forCreate(owner: Principal): Promise<(counts: OwnerCounts) => void> {
    const plan = owner.role === 'admin' ? null : await this.queries.execute(new GetPlanQuery(owner.level));
    return (counts) => {
      if (plan?.deployments_per_day != null && counts.today >= plan.deployments_per_day) {
        throw new AppError(ErrorCode.QUOTA_EXCEEDED, `The ${plan.name} plan allows ${plan.deployments_per_day} new deployments per day`, {
          limit: plan.deployments_per_day, used: counts.today, window: 'day',
        });
      }
      this.running(plan, counts);
    };
  }

  /** The check for starting one again. */
  async forStart(owner: Principal): Promise<(counts: OwnerCounts) => void> {
    const plan = owner.role === 'admin' ? null : await this.queries.execute(new GetPlanQuery(owner.level));
    return (counts) => this.running(plan, counts);
  }

  private running(plan: { name: string; max_running_deployments: number | null } | null | undefined, counts: OwnerCounts): void {
    if (plan?.max_running_deployments != null && counts.running >= plan.max_running_deployments) {
      throw new AppError(ErrorCode.FORBIDDEN, `The ${plan.name} plan allows ${plan.max_running_deployments} running deployments; stop one first`, {
        limit: plan.max_running_deployments, running: counts.running,
      });
    }
  }
}
