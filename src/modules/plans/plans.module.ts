import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UpdatePlanHandler } from './commands/update-plan.command';
import { PlanEntity } from './entities/plan.entity';
import { PlanCache } from './plan-cache';
import { PlansController } from './http/plans.controller';
import { GetPlanHandler } from './queries/get-plan.query';
import { ListPlansHandler } from './queries/list-plans.query';
import { PlanRepository } from './repositories/plan.repository';

const controllers = [PlansController];
const commandHandlers = [UpdatePlanHandler];
const queryHandlers = [ListPlansHandler, GetPlanHandler];

@Module({
  imports: [TypeOrmModule.forFeature([PlanEntity])],
  controllers,
  providers: [PlanRepository, PlanCache, ...commandHandlers, ...queryHandlers],
})
export class PlansModule {}
