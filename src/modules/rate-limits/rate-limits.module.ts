import { Module } from '@nestjs/common';
import { PlanLimitsCache } from './plan-limits.cache';
import { RateLimitGuard } from './rate-limit.guard';

@Module({
  providers: [PlanLimitsCache, RateLimitGuard],
  exports: [RateLimitGuard],
})
export class RateLimitsModule {}
