import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { Role } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { UserEntity, UserStatus } from '../entities/user.entity';
import { ApiKeyRepository } from '../repositories/api-key.repository';
import { SessionRepository } from '../repositories/session.repository';
import { UserRepository } from '../repositories/user.repository';
import { toUserView, UserView } from '../user.mapper';
import { userWriteError } from './create-user.command';

export interface UserChanges {
  username?: string;
  email?: string;
  name?: string | null;
  role?: Role;
  level?: string;
  status?: UserStatus;
  email_verified?: boolean;
  avatar_url?: string | null;
}

export class UpdateUserCommand extends Command<UserView> {
  constructor(
    readonly userId: string,
    readonly changes: UserChanges,
  ) {
    super();
  }
}

/**
 * An admin edits an account. Setting status `deleted` is the soft delete: the
 * row and its data stay, every session and API key is revoked.
 */
@CommandHandler(UpdateUserCommand)
export class UpdateUserHandler implements ICommandHandler<UpdateUserCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserRepository,
    private readonly sessions: SessionRepository,
    private readonly keys: ApiKeyRepository,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ userId, changes }: UpdateUserCommand): Promise<UserView> {
    let saved: UserEntity;
    try {
      saved = await this.dataSource.transaction(async (manager) => {
        const user = await this.users.lockForUpdate(userId, manager);
        if (!user) throw AppError.notFound('User');
        const set = <K extends keyof UserEntity>(key: K, value: UserEntity[K] | undefined) => {
          if (value !== undefined) user[key] = value;
        };
        set('username', changes.username);
        set('email', changes.email);
        set('name', changes.name);
        set('role', changes.role);
        set('level', changes.level);
        set('status', changes.status);
        set('emailVerified', changes.email_verified);
        set('avatarUrl', changes.avatar_url);
        const result = await this.users.save(user, manager);
        if (changes.status === 'deleted') {
          await this.sessions.revokeSessions(userId, { all: true }, 'user_deleted', manager);
          await this.keys.revokeAllKeys(userId, manager);
        }
        return result;
      });
    } catch (error) {
      throw userWriteError(error);
    }
    await this.state.userChanged(userId);
    return toUserView(saved);
  }
}
