import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource, EntityManager } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { UserRepository } from '../repositories/user.repository';

/**
 * What the caller writes of its own in the same transaction as the URL (the
 * avatars context: its row, the blobs it holds and lets go). It answers the URL
 * the user's avatar_url becomes, null for none.
 */
export type AvatarWrite = (manager: EntityManager) => Promise<string | null>;

/**
 * Sets a user's avatar_url, in one transaction with the caller's own writes,
 * so the URL never names an avatar that is not stored, nor outlives the one it
 * named. The identity context keeps the users row to itself: it locks the row
 * (which also puts two avatar changes of one user one after the other), runs
 * the caller's writes, sets the URL, and after the commit drops the cached
 * profile on every replica (GET /users/me is served from AuthStateCache).
 * A user that no longer exists answers 404 and nothing is written.
 */
export class SetAvatarUrlCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly write: AvatarWrite,
  ) {
    super();
  }
}

@CommandHandler(SetAvatarUrlCommand)
export class SetAvatarUrlHandler implements ICommandHandler<SetAvatarUrlCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserRepository,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ userId, write }: SetAvatarUrlCommand): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const user = await this.users.lockForUpdate(userId, manager);
      if (!user) throw AppError.notFound('User');
      user.avatarUrl = await write(manager);
      await this.users.save(user, manager);
    });
    // After the commit: a profile loaded before it would otherwise stay cached with the old URL.
    await this.state.userChanged(userId);
  }
}
