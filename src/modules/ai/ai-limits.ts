import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { Principal } from '../../common/auth/principal';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { GetApiKeyAiLimitsQuery } from '../identity/queries/get-api-key-ai-limits.query';
import { GetUserQuery } from '../identity/queries/get-user.query';
import { GetPlanQuery } from '../plans/queries/get-plan.query';
import { UsageRepository } from './repositories/usage.repository';

/** Who makes an AI call: the user, and the API key the request came with (null: a session's JWT). */
export interface AiCaller {
  userId: string;
  apiKeyId: string | null;
}

export const aiCallerOf = (principal: Principal): AiCaller => ({
  userId: principal.user_id,
  apiKeyId: principal.via === 'api_key' ? (principal.api_key_id ?? null) : null,
});

/**
 * The limits checked before every upstream call (chat, stream, code
 * generation, gateway), in this order:
 *  - the API key's own (set by its owner, admins' keys included): its models
 *    allow-list (another model: 403 FORBIDDEN) and its monthly token budget
 *    (429 QUOTA_EXCEEDED, scope `api_key`);
 *  - the caller's plan's: ai_requests_per_day and ai_tokens_per_month (429
 *    QUOTA_EXCEEDED, scope `plan`); NULL limits are unlimited, admins exempt.
 * Usage is read from the daily roll-up in one statement. A limit is checked
 * before a call whose size is not known yet, so the call that crosses it is
 * answered; the next one is refused.
 */
@Injectable()
export class AiLimits {
  constructor(
    private readonly queries: QueryBus,
    private readonly usage: UsageRepository,
  ) {}

  /** The model names the caller's API key may call; null: any (no allow-list, or no key). */
  async allowedModels(caller: AiCaller): Promise<string[] | null> {
    return (await this.keyLimits(caller))?.ai_models ?? null;
  }

  async check(caller: AiCaller, modelName: string): Promise<void> {
    const keyLimits = await this.keyLimits(caller);
    if (keyLimits?.ai_models && !keyLimits.ai_models.includes(modelName)) {
      throw new AppError(ErrorCode.FORBIDDEN, `This API key may not use the model '${modelName}'`, { model: modelName, allowed_models: keyLimits.ai_models });
    }
    const user = await this.queries.execute(new GetUserQuery(caller.userId));
    const plan = user.role === 'admin' ? null : await this.queries.execute(new GetPlanQuery(user.level));
    if (user.role !== 'admin' && !plan) throw new AppError(ErrorCode.INTERNAL_ERROR, `unknown plan ${user.level}`);
    const keyBudget = keyLimits?.ai_token_budget ?? null;
    const requestLimit = plan?.ai_requests_per_day ?? null;
    const tokenLimit = plan?.ai_tokens_per_month ?? null;
    if (keyBudget === null && requestLimit === null && tokenLimit === null) return;

    const used = await this.usage.usedSince(caller.userId, caller.apiKeyId);
    const planName = plan?.name ?? user.level;
    if (keyBudget !== null && used.keyTokensThisMonth >= keyBudget) {
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `This API key's budget of ${keyBudget} AI tokens per month is spent`, {
        limit: keyBudget, used: used.keyTokensThisMonth, window: 'month', scope: 'api_key',
      });
    }
    if (requestLimit !== null && used.requestsToday >= requestLimit) {
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `The ${planName} plan allows ${requestLimit} AI requests per day`, {
        limit: requestLimit, used: used.requestsToday, window: 'day', scope: 'plan',
      });
    }
    if (tokenLimit !== null && used.tokensThisMonth >= tokenLimit) {
      throw new AppError(ErrorCode.QUOTA_EXCEEDED, `The ${planName} plan allows ${tokenLimit} AI tokens per month`, {
        limit: tokenLimit, used: used.tokensThisMonth, window: 'month', scope: 'plan',
      });
    }
  }

  private keyLimits(caller: AiCaller) {
    return caller.apiKeyId ? this.queries.execute(new GetApiKeyAiLimitsQuery(caller.apiKeyId)) : Promise.resolve(null);
  }
}
