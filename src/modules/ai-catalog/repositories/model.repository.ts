import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, FindOptionsWhere, In, Repository } from 'typeorm';
import { AiModelEntity, ModelType } from '../entities/ai-model.entity';

/** Whether a write failed because the provider already has a model of this name. */
export function isDuplicateModel(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'ai_models_provider_model_name_key';
}

/** Whether a write failed because its provider does not exist (checked before, so only a concurrent change gets here). */
export function isUnknownProvider(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23503' && constraint === 'ai_models_provider_fkey';
}

export interface ModelFilters {
  /** Only active models. */
  activeOnly: boolean;
  /** A provider_key. */
  provider?: string;
  type?: ModelType;
}

/**
 * The `ai_models` table: every statement the catalog makes about models.
 * Methods that take an `EntityManager` run in the caller's transaction.
 */
@Injectable()
export class ModelRepository {
  constructor(@InjectRepository(AiModelEntity) private readonly models: Repository<AiModelEntity>) {}

  findById(id: string): Promise<AiModelEntity | null> {
    return this.models.findOneBy({ id });
  }

  /**
   * A model by name, of the given provider or, without one, of any: an active
   * one before an inactive one, then by sort_order, so the answer does not
   * change from call to call.
   */
  findByName(modelName: string, provider?: string): Promise<AiModelEntity | null> {
    return this.models.findOne({
      where: provider === undefined ? { modelName } : { modelName, provider },
      order: { isActive: 'DESC', sortOrder: 'ASC', provider: 'ASC' },
    });
  }

  /** The active models of this name, one per provider offering it, by sort_order (then provider, for a stable order). */
  findActiveByName(modelName: string): Promise<AiModelEntity[]> {
    return this.models.find({ where: { modelName, isActive: true }, order: { sortOrder: 'ASC', provider: 'ASC' } });
  }

  async insert(model: AiModelEntity): Promise<void> {
    // A copy: insert() writes what PostgreSQL returns for columns with defaults back into
    // the object it is given, past the column transformers, so the prices would turn into strings.
    await this.models.insert({ ...model });
  }

  /** Changes the given columns; false when there is no such model. */
  async update(id: string, changes: Partial<AiModelEntity>): Promise<boolean> {
    const result = await this.models.update({ id }, changes);
    return Boolean(result.affected);
  }

  /** One page of the catalog by sort_order, then model name (then provider and id, so pages never overlap), and how many match. */
  async list(filters: ModelFilters, page: { page: number; limit: number }): Promise<{ rows: AiModelEntity[]; total: number }> {
    const where: FindOptionsWhere<AiModelEntity> = {};
    if (filters.activeOnly) where.isActive = true;
    if (filters.provider !== undefined) where.provider = filters.provider;
    if (filters.type !== undefined) where.modelType = filters.type;
    const [rows, total] = await this.models.findAndCount({
      where,
      order: { sortOrder: 'ASC', modelName: 'ASC', provider: 'ASC', id: 'ASC' },
      skip: (page.page - 1) * page.limit,
      take: page.limit,
    });
    return { rows, total };
  }

  /** Reads and locks the row until the transaction ends; null when there is none. */
  lockForUpdate(manager: EntityManager, id: string): Promise<AiModelEntity | null> {
    return manager.getRepository(AiModelEntity).findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
  }

  save(manager: EntityManager, model: AiModelEntity): Promise<AiModelEntity> {
    return manager.getRepository(AiModelEntity).save(model);
  }

  /**
   * Locks the rows of these ids until the transaction ends, in id order (so two
   * batches over the same models wait for each other instead of deadlocking),
   * and returns the ids found.
   */
  async lockIds(manager: EntityManager, ids: string[]): Promise<string[]> {
    const rows = await manager.getRepository(AiModelEntity).find({
      select: { id: true },
      where: { id: In(ids) },
      order: { id: 'ASC' },
      lock: { mode: 'pessimistic_write' },
    });
    return rows.map((row) => row.id);
  }

  /** Sets each model's sort_order in one statement. */
  async setSortOrders(manager: EntityManager, items: Array<{ id: string; sortOrder: number }>): Promise<void> {
    await manager.query(
      `UPDATE ai_models AS m SET sort_order = v.sort_order, updated_at = now()
       FROM unnest($1::uuid[], $2::integer[]) AS v (id, sort_order)
       WHERE m.id = v.id`,
      [items.map((item) => item.id), items.map((item) => item.sortOrder)],
    );
  }

  transaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.models.manager.transaction(work);
  }
}
