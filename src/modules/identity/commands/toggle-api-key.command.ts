import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource, IsNull } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { ApiKeyView, toApiKeyView } from '../api-key.mapper';
import { AuthStateCache } from '../auth-state.cache';
import { ApiKeyEntity } from '../entities/api-key.entity';

/** Enables or disables a key; without `enabled` it flips the current state. */
export class ToggleApiKeyCommand extends Command<ApiKeyView> {
  constructor(
    readonly userId: string,
    readonly keyId: string,
    readonly enabled?: boolean,
  ) {
    super();
  }
}

@CommandHandler(ToggleApiKeyCommand)
export class ToggleApiKeyHandler implements ICommandHandler<ToggleApiKeyCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ userId, keyId, enabled }: ToggleApiKeyCommand): Promise<ApiKeyView> {
    const keys = this.dataSource.getRepository(ApiKeyEntity);
    const key = await keys.findOneBy({ id: keyId, userId, revokedAt: IsNull() });
    if (!key) throw AppError.notFound('API key');
    key.enabled = enabled ?? !key.enabled;
    const saved = await keys.save(key);
    await this.state.userChanged(userId);
    return toApiKeyView(saved);
  }
}
