import type { ActionRateLimitSpec } from '../../../common/http/action-rate-limit';

/** Posts and comments together: at most 10 per 30 s per user (beyond the plan's request limit). */
export const COMMUNITY_WRITE: ActionRateLimitSpec = { name: 'community.write', limit: 10, windowSeconds: 30 };
/** Likes, favorites, comment likes and follows together: at most 30 per 30 s per user. */
export const COMMUNITY_REACT: ActionRateLimitSpec = { name: 'community.react', limit: 30, windowSeconds: 30 };

/** The rest of a route's 403 description (as @Authenticated() writes it). */
export const DISABLED_OR = 'ACCOUNT_DISABLED: the account is disabled';
