import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { GetUserQuery } from '../identity/queries/get-user.query';
import { GetPlanQuery } from '../plans/queries/get-plan.query';
import { UsageRepository } from './repositories/usage.repository';

/**
 * The caller's plan's AI limits, checked before every upstream call (chat,
 * code generation, gateway): ai_requests_per_day (ai_usage rows since the
 * start of the UTC day) and ai_tokens_per_month (prompt + completion tokens
 * since the start of the UTC month). Over either: 429 QUOTA_EXCEEDED. NULL
 * limits are unlimited; admins are exempt.
 */
@Injectable()
export class AiPlanLimits {
  constructor(
    private readonly queries: QueryBus,
    private readonly usage: UsageRepository,
  ) {}

  async check(userId: string): Promise<void> {
    const user = await this.queries.execute(new GetUserQuery(userId));
    if (user.role === 'admin') return;
    const plan = await this.queries.execute(new GetPlanQuery(user.level));
    if (!plan) throw new AppError(ErrorCode.INTERNAL_ERROR, `unknown plan ${user.level}`);
    const requestLimit = plan.ai_requests_per_day;
    const tokenLimit = plan.ai_tokens_per_month;
    if (requestLimit === null && tokenLimit === null) return;
    const used = await this.usage.usedSince(userId);
    if (requestLimit !== null && used.requestsToday >= requestLimit) {
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `The ${plan.name} plan allows ${requestLimit} AI requests per day`, {
        limit: requestLimit, used: used.requestsToday, window: 'day',
      });
    }
    if (tokenLimit !== null && used.tokensThisMonth >= tokenLimit) {
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `The ${plan.name} plan allows ${tokenLimit} AI tokens per month`, {
        limit: tokenLimit, used: used.tokensThisMonth, window: 'month',
      });
    }
  }
}
