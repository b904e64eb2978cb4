import { Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { maskSecret, SecretBox } from '../../common/crypto/secret-box';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { GetProviderQuery } from '../ai-catalog/queries/get-provider.query';
import { BaseUrlPolicy } from './base-url-policy';
import type { AiConfigEntity } from './entities/ai-config.entity';

/**
 * The checks and conversions a config's input needs beyond its shape, shared
 * by create and update: the provider must be one of the catalog's active
 * ones, the base_url's host must be allowed, and the API key is sealed
 * before it goes anywhere near the database.
 */
@Injectable()
export class AiConfigInputs {
  constructor(
    private readonly queries: QueryBus,
    private readonly baseUrls: BaseUrlPolicy,
    private readonly box: SecretBox,
  ) {}

  /** 400 VALIDATION_ERROR on `provider` unless the catalog has this provider and it is active. */
  async checkProvider(providerKey: string): Promise<void> {
    const provider = await this.queries.execute(new GetProviderQuery(providerKey));
    if (provider?.is_active) return;
    const problem = provider ? `provider ${providerKey} is switched off by the administrators` : `provider ${providerKey} is not one of the catalog's providers`;
    throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { provider: [problem] } });
  }

  /** 400 VALIDATION_ERROR on `base_url` when its host is refused (BaseUrlPolicy). */
  checkBaseUrl(baseUrl: string): Promise<void> {
    return this.baseUrls.check(baseUrl);
  }

  /** The key's columns: sealed and masked, or both null (no key). */
  keyColumns(apiKey: string | null): Pick<AiConfigEntity, 'apiKeySealed' | 'apiKeyMasked'> {
    if (apiKey === null) return { apiKeySealed: null, apiKeyMasked: null };
    return { apiKeySealed: this.box.seal(apiKey), apiKeyMasked: maskSecret(apiKey) };
  }
}
