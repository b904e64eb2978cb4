import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ApiKeyView, toApiKeyView } from '../api-key.mapper';
import { ApiKeyRepository } from '../repositories/api-key.repository';
import { ApiKeyAiLimitsInput, distinctModels } from './create-api-key.command';

/** What PATCH /api-keys/:id may change; an absent field is kept, a null limit removed. */
export interface ApiKeyChanges extends ApiKeyAiLimitsInput {
  name?: string;
}

/**
 * Renames a key or changes its AI limits (the caller's own key; an admin's:
 * anyone's). Its value, scopes and expiry never change: a key with other
 * rights is a new key.
 */
export class UpdateApiKeyCommand extends Command<ApiKeyView> {
  constructor(
    readonly actor: Actor,
    readonly keyId: string,
    readonly changes: ApiKeyChanges,
  ) {
    super();
  }
}

@CommandHandler(UpdateApiKeyCommand)
export class UpdateApiKeyHandler implements ICommandHandler<UpdateApiKeyCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: ApiKeyRepository,
  ) {}

  async execute({ actor, keyId, changes }: UpdateApiKeyCommand): Promise<ApiKeyView> {
    // The AI limits are read per call (GetApiKeyAiLimitsQuery), not cached with the key's authentication: nothing to invalidate.
    const saved = await this.dataSource.transaction(async (manager) => {
      const key = await this.keys.lockUnrevokedForUpdate(keyId, manager);
      if (!key || !mayActOn(actor, key.userId)) throw AppError.notFound('API key');
      if (changes.name !== undefined) key.name = changes.name;
      if (changes.ai_token_budget !== undefined) key.aiTokenBudget = changes.ai_token_budget;
      if (changes.ai_models !== undefined) key.aiModels = distinctModels(changes.ai_models);
      return this.keys.save(key, manager);
    });
    return toApiKeyView(saved);
  }
}
