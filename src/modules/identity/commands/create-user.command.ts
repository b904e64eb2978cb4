import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Role } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { UserStatus } from '../entities/user.entity';
import { PasswordHasher } from '../password-hasher';
import { UserRepository } from '../repositories/user.repository';
import { duplicateUserField, toUserView, UserView } from '../user.mapper';

export interface NewUser {
  username: string;
  email: string;
  password: string;
  name?: string;
  role?: Role;
  level?: string;
  status?: Exclude<UserStatus, 'deleted'>;
  email_verified?: boolean;
}

/** An admin creates an account (and the first admin is created this way). */
export class CreateUserCommand extends Command<UserView> {
  constructor(readonly user: NewUser) {
    super();
  }
}

@CommandHandler(CreateUserCommand)
export class CreateUserHandler implements ICommandHandler<CreateUserCommand> {
  constructor(
    private readonly users: UserRepository,
    private readonly hasher: PasswordHasher,
  ) {}

  async execute({ user }: CreateUserCommand): Promise<UserView> {
    try {
      const saved = await this.users.insert({
        username: user.username,
        email: user.email,
        name: user.name ?? null,
        passwordHash: await this.hasher.hash(user.password),
        role: user.role ?? 'user',
        level: user.level ?? 'free',
        status: user.status ?? 'active',
        emailVerified: user.email_verified ?? false,
      });
      return toUserView(saved);
    } catch (error) {
      throw userWriteError(error);
    }
  }
}

/** Maps constraint violations on users to client errors; anything else is rethrown. */
export function userWriteError(error: unknown): unknown {
  const field = duplicateUserField(error);
  if (field) return AppError.conflict(`This ${field} is already taken`, { field });
  if ((error as { code?: string }).code === '23503') {
    return new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { level: ['level must be an existing plan id'] } });
  }
  return error;
}
