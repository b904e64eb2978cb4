import { SetMetadata } from '@nestjs/common';

export const ACTION_RATE_LIMIT = 'coderunner:action-rate-limit';

/**
 * A limit on one kind of action per user, on top of the plan's request limits:
 * at most `limit` requests per `windowSeconds` to the routes that share `name`
 * (e.g. posts and comments together). Applied by the rate-limit guard, with
 * the same store, headers and 429 answer; admins pass untouched.
 */
export interface ActionRateLimitSpec {
  name: string;
  limit: number;
  windowSeconds: number;
}

export const ActionRateLimit = (spec: ActionRateLimitSpec): MethodDecorator => SetMetadata(ACTION_RATE_LIMIT, spec);
