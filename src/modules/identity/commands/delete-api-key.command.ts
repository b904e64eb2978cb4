import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { ApiKeyEntity } from '../entities/api-key.entity';

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
    private readonly dataSource: DataSource,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ actor, keyId }: DeleteApiKeyCommand): Promise<void> {
    const keys = this.dataSource.getRepository(ApiKeyEntity);
    const key = await keys.findOneBy({ id: keyId });
    if (!key || !mayActOn(actor, key.userId)) throw AppError.notFound('API key');
    // The checked owner is part of the condition: the statement deletes nothing the check did not allow. 0 rows: a concurrent delete won.
    const result = await keys.delete({ id: keyId, userId: key.userId });
    if (!result.affected) throw AppError.notFound('API key');
    // The owner's cached key state is what changed, whoever deleted it.
    await this.state.userChanged(key.userId);
  }
}
