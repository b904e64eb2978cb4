import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { SecretBox } from '../../../common/crypto/secret-box';
import { openConfigKey } from '../config-key';
import { AiConfigRepository } from '../repositories/ai-config.repository';

/** What a call to a provider on a user's behalf needs from their config; the key in the clear, so never for the wire. */
export interface AiCredentials {
  source: 'user_config';
  config_id: string;
  /** null: the provider's default_base_url. */
  base_url: string | null;
  /** null: the config has no key. */
  api_key: string | null;
  model: string;
  temperature: number;
  max_tokens: number;
}

/**
 * The user's active config of a provider with its key opened, or null when
 * they have none active. A key that cannot be opened (sealed under an
 * ENCRYPTION_KEY the server no longer holds, or altered in the database) is a
 * 422 UNPROCESSABLE naming the config, never a wrong key sent to the provider:
 * the user can save the key again.
 */
export class ResolveAiCredentialsQuery extends Query<AiCredentials | null> {
  constructor(
    readonly userId: string,
    readonly providerKey: string,
  ) {
    super();
  }
}

@QueryHandler(ResolveAiCredentialsQuery)
export class ResolveAiCredentialsHandler implements IQueryHandler<ResolveAiCredentialsQuery> {
  constructor(
    private readonly configs: AiConfigRepository,
    private readonly box: SecretBox,
  ) {}

  async execute({ userId, providerKey }: ResolveAiCredentialsQuery): Promise<AiCredentials | null> {
    const config = await this.configs.findActive(userId, providerKey);
    if (!config) return null;
    const apiKey = openConfigKey(this.box, config);
    return {
      source: 'user_config',
      config_id: config.id,
      base_url: config.baseUrl,
      api_key: apiKey,
      model: config.model,
      temperature: config.temperature,
      max_tokens: config.maxTokens,
    };
  }
}
