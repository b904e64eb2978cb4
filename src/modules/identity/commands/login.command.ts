import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { ClientInfo } from '../../../common/http/client-info';
import { AuthStateCache } from '../auth-state.cache';
import { LoginLockout } from '../login-lockout';
import { PasswordHasher } from '../password-hasher';
import { UserRepository } from '../repositories/user.repository';
import { SessionIssuer } from '../session-issuer';
import { toUserView } from '../user.mapper';
import { AuthResult } from './register-user.command';

/** `identifier` is a username or an email. */
export class LoginCommand extends Command<AuthResult> {
  constructor(
    readonly identifier: string,
    readonly password: string,
    readonly client: ClientInfo,
  ) {
    super();
  }
}

@CommandHandler(LoginCommand)
export class LoginHandler implements ICommandHandler<LoginCommand> {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
    private readonly lockout: LoginLockout,
    private readonly sessions: SessionIssuer,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ identifier, password, client }: LoginCommand): Promise<AuthResult> {
    const user = await this.users.findByLogin(identifier);
    if (user) this.lockout.assertNotLocked(user.lockedUntil);

    // Always one bcrypt comparison, so an unknown name takes as long as a wrong password.
    const matches = await this.hasher.verify(password, user?.passwordHash);
    if (!user || !matches) {
      if (user) await this.lockout.recordFailure(user.id);
      throw new AppError(ErrorCode.INVALID_CREDENTIALS, 'Wrong username, email or password');
    }
    if (user.status === 'disabled') throw new AppError(ErrorCode.ACCOUNT_DISABLED, 'This account is disabled');

    const tokens = await this.sessions.open(user, client);
    user.lastLoginAt = new Date();
    // last_login_at changed: drop cached profiles everywhere, without making the caller wait for it.
    this.state.userChanged(user.id).catch(() => undefined);
    return { user: toUserView(user), tokens };
  }
}
