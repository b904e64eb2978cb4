import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { ApiKeyEntity } from '../entities/api-key.entity';

/** Deletes a key for good; requests with it answer 401 at once. */
export class DeleteApiKeyCommand extends Command<void> {
  constructor(
    readonly userId: string,
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

  async execute({ userId, keyId }: DeleteApiKeyCommand): Promise<void> {
    const result = await this.dataSource.getRepository(ApiKeyEntity).delete({ id: keyId, userId });
    if (!result.affected) throw AppError.notFound('API key');
    await this.state.userChanged(userId);
  }
}
