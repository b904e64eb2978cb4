import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { SecretBox } from '../../../common/crypto/secret-box';
import { AppError } from '../../../common/errors/app-error';
import { AiProviderEntity } from '../entities/ai-provider.entity';
import { ProviderRepository } from '../repositories/provider.repository';
import { platformKeyColumns, ProviderInput } from './create-provider.command';

/**
 * The fields given change; `default_base_url: null` and `api_key: null` remove
 * them. The provider_key does not change: models and other contexts' rows name
 * the provider by it.
 */
export type ProviderChanges = Partial<Omit<ProviderInput, 'provider_key'>>;

export class UpdateProviderCommand extends Command<AiProviderEntity> {
  constructor(
    readonly id: string,
    readonly changes: ProviderChanges,
  ) {
    super();
  }
}

@CommandHandler(UpdateProviderCommand)
export class UpdateProviderHandler implements ICommandHandler<UpdateProviderCommand> {
  constructor(
    private readonly providers: ProviderRepository,
    private readonly box: SecretBox,
  ) {}

  async execute({ id, changes }: UpdateProviderCommand): Promise<AiProviderEntity> {
    const set: Partial<AiProviderEntity> = { updatedAt: new Date() };
    if (changes.display_name !== undefined) set.displayName = changes.display_name;
    if (changes.default_base_url !== undefined) set.defaultBaseUrl = changes.default_base_url;
    if (changes.api_style !== undefined) set.apiStyle = changes.api_style;
    if (changes.api_key !== undefined) Object.assign(set, platformKeyColumns(this.box, changes.api_key));
    if (changes.is_active !== undefined) set.isActive = changes.is_active;
    if (changes.sort_order !== undefined) set.sortOrder = changes.sort_order;
    // Each column is set whole, so concurrent edits of different fields both land; of one field, the last wins.
    if (!(await this.providers.update(id, set))) throw AppError.notFound('Provider');
    const updated = await this.providers.findById(id);
    if (!updated) throw AppError.notFound('Provider');
    return updated;
  }
}
