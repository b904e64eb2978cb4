import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource, IsNull } from 'typeorm';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ApiKeyView, toApiKeyView } from '../api-key.mapper';
import { AuthStateCache } from '../auth-state.cache';
import { ApiKeyEntity } from '../entities/api-key.entity';

/** Enables or disables a key (the caller's own; an admin's: anyone's); without `enabled` it flips the current state. */
export class ToggleApiKeyCommand extends Command<ApiKeyView> {
  constructor(
    readonly actor: Actor,
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

  async execute({ actor, keyId, enabled }: ToggleApiKeyCommand): Promise<ApiKeyView> {
    // Locked while it changes: a concurrent toggle flips the state this one left, and a concurrent delete wins or waits.
    const saved = await this.dataSource.transaction(async (manager) => {
      const key = await manager.findOne(ApiKeyEntity, { where: { id: keyId, revokedAt: IsNull() }, lock: { mode: 'pessimistic_write' } });
      if (!key || !mayActOn(actor, key.userId)) throw AppError.notFound('API key');
      key.enabled = enabled ?? !key.enabled;
      return manager.save(key);
    });
    // The owner's cached key state is what changed, whoever toggled it.
    await this.state.userChanged(saved.userId);
    return toApiKeyView(saved);
  }
}
