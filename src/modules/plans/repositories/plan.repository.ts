import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { PlanEntity } from '../entities/plan.entity';

/** The `plans` table. Methods that take an `EntityManager` run inside the caller's transaction. */
@Injectable()
export class PlanRepository {
  constructor(@InjectRepository(PlanEntity) private readonly plans: Repository<PlanEntity>) {}

  findById(id: string): Promise<PlanEntity | null> {
    return this.plans.findOneBy({ id });
  }

  /** Every plan, by sort_order (free first). */
  listInOrder(): Promise<PlanEntity[]> {
    return this.plans.find({ order: { sortOrder: 'ASC' } });
  }

  /** Reads and locks the row (SELECT … FOR UPDATE) until the caller's transaction ends; null when there is none. */
  lockForUpdate(id: string, manager: EntityManager): Promise<PlanEntity | null> {
    return manager.getRepository(PlanEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  /** Writes the changed columns of a loaded plan. */
  save(plan: PlanEntity, manager: EntityManager): Promise<PlanEntity> {
    return manager.getRepository(PlanEntity).save(plan);
  }
}
