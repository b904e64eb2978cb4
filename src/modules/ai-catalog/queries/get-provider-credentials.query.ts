import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { SecretBox, SecretBoxError } from '../../../common/crypto/secret-box';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { PROVIDER_KEY } from '../catalog-names';
import { ApiStyle } from '../entities/ai-provider.entity';
import { ProviderRepository } from '../repositories/provider.repository';

/** How to call a provider with the platform's own key; the key in the clear, so never for the wire. */
export interface ProviderCredentials {
  api_style: ApiStyle;
  /** The provider's default_base_url; null when it has none. */
  base_url: string | null;
  /** The platform's key for it, opened; null when none is set. */
  api_key: string | null;
}

/**
 * An active provider's platform credentials by its key, or null when there is
 * no such provider or it is inactive. A platform key that cannot be opened
 * (sealed under an ENCRYPTION_KEY the server no longer holds, or altered) is a
 * 422 UNPROCESSABLE naming the provider, never a wrong key sent upstream.
 */
export class GetProviderCredentialsQuery extends Query<ProviderCredentials | null> {
  constructor(readonly providerKey: string) {
    super();
  }
}

@QueryHandler(GetProviderCredentialsQuery)
export class GetProviderCredentialsHandler implements IQueryHandler<GetProviderCredentialsQuery> {
  constructor(
    private readonly providers: ProviderRepository,
    private readonly box: SecretBox,
  ) {}

  async execute({ providerKey }: GetProviderCredentialsQuery): Promise<ProviderCredentials | null> {
    if (!PROVIDER_KEY.test(providerKey)) return null;
    const provider = await this.providers.findByKey(providerKey);
    if (!provider || !provider.isActive) return null;
    let apiKey: string | null = null;
    if (provider.apiKeySealed !== null) {
      try {
        apiKey = this.box.open(provider.apiKeySealed);
      } catch (error) {
        if (!(error instanceof SecretBoxError)) throw error;
        throw new AppError(
          ErrorCode.UNPROCESSABLE,
          `The platform API key of AI provider "${provider.providerKey}" cannot be decrypted: it was sealed under an encryption key this server does not hold, or altered. Save the key again`,
          { provider_key: provider.providerKey, field: 'api_key' },
        );
      }
    }
    return { api_style: provider.apiStyle, base_url: provider.defaultBaseUrl, api_key: apiKey };
  }
}
