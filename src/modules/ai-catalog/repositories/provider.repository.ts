import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { AiProviderEntity } from '../entities/ai-provider.entity';

/** Whether a write failed because another provider has this provider_key. */
export function isDuplicateProviderKey(error: unknown): boolean {
  const { code, constraint } = error as { code?: string; constraint?: string };
  return code === '23505' && constraint === 'ai_providers_provider_key_key';
}

/** The `ai_providers` table: every statement the catalog makes about providers. */
@Injectable()
export class ProviderRepository {
  constructor(@InjectRepository(AiProviderEntity) private readonly providers: Repository<AiProviderEntity>) {}

  findById(id: string): Promise<AiProviderEntity | null> {
    return this.providers.findOneBy({ id });
  }

  findByKey(providerKey: string): Promise<AiProviderEntity | null> {
    return this.providers.findOneBy({ providerKey });
  }

  /** Whether a provider with this key exists, active or not. */
  existsByKey(providerKey: string): Promise<boolean> {
    return this.providers.existsBy({ providerKey });
  }

  /** Every provider, active or not, by sort_order (then key, so equal orders list the same way every time). */
  listInOrder(): Promise<AiProviderEntity[]> {
    return this.providers.find({ order: { sortOrder: 'ASC', providerKey: 'ASC' } });
  }

  /** The active providers among these keys. */
  findActiveByKeys(providerKeys: string[]): Promise<AiProviderEntity[]> {
    return this.providers.findBy({ providerKey: In(providerKeys), isActive: true });
  }

  async insert(provider: AiProviderEntity): Promise<void> {
    await this.providers.insert(provider);
  }

  /** Changes the given columns; false when there is no such provider. */
  async update(id: string, changes: Partial<AiProviderEntity>): Promise<boolean> {
    const result = await this.providers.update({ id }, changes);
    return Boolean(result.affected);
  }
}
