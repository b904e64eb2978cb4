import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { ApiKeyRepository } from '../repositories/api-key.repository';

/** Deletes a key for good (the caller's own; an admin's: anyone's); requests with it answer 401 at once. */
export class DeleteApiKeyCommand extends Command<void> {
  constructor(
    readonly actor: Actor,
    readonly keyId: string,
  ) {
    super();
  }
}

@CommandHandler(DeleteApiKeyCommand)
export class DeleteApiKeyHandler implements ICommandHandler<DeleteApiKeyCommand> {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ actor, keyId }: DeleteApiKeyCommand): Promise<void> {
    const key = await this.keys.findById(keyId);
    if (!key || !mayActOn(actor, key.userId)) throw AppError.notFound('API key');
    // The checked owner is part of the condition: the statement deletes nothing the check did not allow. False: a concurrent delete won.
    if (!(await this.keys.deleteOwned(keyId, key.userId))) throw AppError.notFound('API key');
    // The owner's cached key state is what changed, whoever deleted it.
    await this.state.userChanged(key.userId);
  }
}
