import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { AuthStateCache } from '../auth-state.cache';
import { PasswordHasher } from '../password-hasher';
import { SessionRepository, SessionScope } from '../repositories/session.repository';
import { UserRepository } from '../repositories/user.repository';

/**
 * Sets a new password. A user changing their own proves the current one and
 * keeps the session they use; an admin reset (no current password) ends all of
 * that user's sessions.
 */
export class ChangePasswordCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly newPassword: string,
    readonly own?: { currentPassword: string; sessionId?: string },
  ) {
    super();
  }
}

@CommandHandler(ChangePasswordCommand)
export class ChangePasswordHandler implements ICommandHandler<ChangePasswordCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly hasher: PasswordHasher,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ userId, newPassword, own }: ChangePasswordCommand): Promise<void> {
    const user = await this.users.findById(userId);
    if (!user || user.status === 'deleted') throw AppError.notFound('User');
    if (own && !(await this.hasher.verify(own.currentPassword, user.passwordHash))) {
      throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'The current password is wrong');
    }
    const passwordHash = await this.hasher.hash(newPassword);
    const scope: SessionScope = own?.sessionId ? { allExcept: own.sessionId } : { all: true };
    await this.dataSource.transaction(async (manager) => {
      await this.users.setPassword(userId, passwordHash, manager);
      await this.sessions.revokeSessions(userId, scope, 'password_changed', manager);
    });
    await this.state.userChanged(userId);
  }
}
