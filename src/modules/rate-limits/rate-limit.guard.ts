import { CanActivate, ExecutionContext, Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import type { Principal } from '../../common/auth/principal';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { ACTION_RATE_LIMIT, ActionRateLimitSpec } from '../../common/http/action-rate-limit';
import { SKIP_RATE_LIMIT } from '../../common/http/skip-rate-limit';
import { AppLogger } from '../../common/logging/app-logger';
import { GetPlanQuery } from '../plans/queries/get-plan.query';
import { CounterStore, MemoryCounterStore, RedisCounterStore } from './counter-store';

interface Window {
  /** `minute`, `hour`, or an action's name (ActionRateLimit). */
  name: string;
  ms: number;
  limit: number;
}

/**
 * Rate limits (docs/architecture.md, Rate limits): per caller (user, an API key's owner, or the IP of an
 * anonymous caller), per plan, per minute and per hour, in fixed windows.
 * Admins and unlimited plans pass untouched. Runs after AuthGuard (see
 * AppModule), so it knows the caller; AppModule leaves it out when
 * RATE_LIMIT_ENABLED=false. If Redis fails, requests are let through
 * and the failure logged: a limiter outage must not become an API outage.
 */
@Injectable()
export class RateLimitGuard implements CanActivate, OnApplicationShutdown {
  private readonly store: CounterStore;

  constructor(
    private readonly reflector: Reflector,
    private readonly queries: QueryBus,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.store = config.redisUrl ? new RedisCounterStore(config.redisUrl, config.redisKeyPrefix) : new MemoryCounterStore();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    if (this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT, [context.getHandler(), context.getClass()])) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & { principal?: Principal }>();
    const windows = await this.windowsFor(request.principal);
    const action = this.reflector.get<ActionRateLimitSpec | undefined>(ACTION_RATE_LIMIT, context.getHandler());
    if (action && request.principal && request.principal.role !== 'admin') {
      windows.push({ name: action.name, ms: action.windowSeconds * 1000, limit: action.limit });
    }
    if (windows.length === 0) return true;

    const caller = request.principal ? `user:${request.principal.user_id}` : `ip:${request.ip}`;
    const now = Date.now();
    const keys = windows.map((w) => {
      const start = Math.floor(now / w.ms) * w.ms;
      return { key: `rl:${caller}:${w.name}:${start}`, ttlMs: start + w.ms - now + 1000, resetAt: start + w.ms };
    });
    let counts: number[];
    try {
      counts = await this.store.increment(keys);
    } catch (error) {
      this.logger.pino.error({ err: error }, 'rate limit store unavailable; request let through');
      return true;
    }

    // Report the window closest to its limit.
    let tightest = 0;
    for (let i = 1; i < windows.length; i++) {
      if (windows[i].limit - counts[i] < windows[tightest].limit - counts[tightest]) tightest = i;
    }
    const resetAt = keys[tightest].resetAt;
    http.getResponse<FastifyReply>().headers({
      'x-ratelimit-limit': windows[tightest].limit,
      'x-ratelimit-remaining': Math.max(0, windows[tightest].limit - counts[tightest]),
      'x-ratelimit-reset': Math.ceil(resetAt / 1000),
    });
    const exceeded = windows.findIndex((w, i) => counts[i] > w.limit);
    if (exceeded >= 0) {
      const retryAfter = Math.max(1, Math.ceil((keys[exceeded].resetAt - now) / 1000));
      throw new AppError(
        ErrorCode.RATE_LIMITED,
        rateLimitMessage(windows[exceeded]),
        { retry_after: retryAfter, limit: windows[exceeded].limit, window: windows[exceeded].name },
        { 'Retry-After': String(retryAfter) },
      );
    }
    return true;
  }

  private async windowsFor(principal: Principal | undefined): Promise<Window[]> {
    if (!principal) {
      return [
        { name: 'minute', ms: 60_000, limit: this.config.rateLimit.anonymousPerMinute },
        { name: 'hour', ms: 3_600_000, limit: this.config.rateLimit.anonymousPerHour },
      ];
    }
    if (principal.role === 'admin') return [];
    const plan = await this.queries.execute(new GetPlanQuery(principal.level));
    const windows: Window[] = [];
    if (plan?.requests_per_minute != null) windows.push({ name: 'minute', ms: 60_000, limit: plan.requests_per_minute });
    if (plan?.requests_per_hour != null) windows.push({ name: 'hour', ms: 3_600_000, limit: plan.requests_per_hour });
    return windows;
  }
}

function rateLimitMessage(window: Window): string {
  if (window.name === 'minute' || window.name === 'hour') return `Rate limit of ${window.limit} requests per ${window.name} exceeded`;
  return `Rate limit of ${window.limit} ${window.name} actions per ${window.ms / 1000} s exceeded`;
}
