import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ApiKeyView, toApiKeyView } from '../api-key.mapper';
import { AuthStateCache } from '../auth-state.cache';
import { ApiKeyRepository } from '../repositories/api-key.repository';

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
    private readonly keys: ApiKeyRepository,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ actor, keyId, enabled }: ToggleApiKeyCommand): Promise<ApiKeyView> {
    // Locked while it changes: a concurrent toggle flips the state this one left, and a concurrent delete wins or waits.
    const saved = await this.dataSource.transaction(async (manager) => {
      const key = await this.keys.lockUnrevokedForUpdate(keyId, manager);
      if (!key || !mayActOn(actor, key.userId)) throw AppError.notFound('API key');
      key.enabled = enabled ?? !key.enabled;
      return this.keys.save(key, manager);
    });
    // The owner's cached key state is what changed, whoever toggled it.
    await this.state.userChanged(saved.userId);
    return toApiKeyView(saved);
  }
}
