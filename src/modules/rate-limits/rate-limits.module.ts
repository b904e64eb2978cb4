import { Module } from '@nestjs/common';
import { PlansModule } from '../plans/plans.module';
import { RateLimitGuard } from './rate-limit.guard';

@Module({
  // Plans: GetPlanQuery (a caller's requests per minute and hour).
  imports: [PlansModule],
  providers: [RateLimitGuard],
  exports: [RateLimitGuard],
})
export class RateLimitsModule {}
