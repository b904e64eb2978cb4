import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { maskSecret, SecretBox } from '../../../common/crypto/secret-box';
import { AppError } from '../../../common/errors/app-error';
import { uuidv7 } from '../../../common/ids';
import { AiProviderEntity, ApiStyle } from '../entities/ai-provider.entity';
import { isDuplicateProviderKey, ProviderRepository } from '../repositories/provider.repository';

export interface ProviderInput {
  provider_key: string;
  display_name: string;
  default_base_url?: string | null;
  api_style: ApiStyle;
  /** The platform's own key for this provider, in the clear; stored only sealed. */
  api_key?: string | null;
  is_active?: boolean;
  sort_order?: number;
}

/** Adds a provider to the catalog; provider keys are unique (409 otherwise). */
export class CreateProviderCommand extends Command<AiProviderEntity> {
  constructor(readonly input: ProviderInput) {
    super();
  }
}

@CommandHandler(CreateProviderCommand)
export class CreateProviderHandler implements ICommandHandler<CreateProviderCommand> {
  constructor(
    private readonly providers: ProviderRepository,
    private readonly box: SecretBox,
  ) {}

  async execute({ input }: CreateProviderCommand): Promise<AiProviderEntity> {
    const now = new Date();
    const row: AiProviderEntity = {
      id: uuidv7(),
      providerKey: input.provider_key,
      displayName: input.display_name,
      defaultBaseUrl: input.default_base_url ?? null,
      apiStyle: input.api_style,
      ...platformKeyColumns(this.box, input.api_key ?? null),
      isActive: input.is_active ?? true,
      sortOrder: input.sort_order ?? 0,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.providers.insert(row);
    } catch (error) {
      throw isDuplicateProviderKey(error) ? providerKeyTaken(row.providerKey) : error;
    }
    return row;
  }
}

/** The columns that hold a platform key: sealed, and its mask for display; both null without a key. */
export function platformKeyColumns(box: SecretBox, apiKey: string | null): Pick<AiProviderEntity, 'apiKeySealed' | 'apiKeyMask'> {
  if (apiKey === null) return { apiKeySealed: null, apiKeyMask: null };
  return { apiKeySealed: box.seal(apiKey), apiKeyMask: maskSecret(apiKey) };
}

function providerKeyTaken(providerKey: string): AppError {
  return AppError.conflict(`A provider with the key ${providerKey} already exists`, { field: 'provider_key' });
}
