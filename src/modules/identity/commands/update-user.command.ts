import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { Role } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { UserEntity, UserStatus } from '../entities/user.entity';
import { toUserView, UserView } from '../user.mapper';
import { userWriteError } from './create-user.command';
import { revokeSessions } from './revoke-sessions.command';

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
    private readonly state: AuthStateCache,
  ) {}

  async execute({ userId, changes }: UpdateUserCommand): Promise<UserView> {
    let saved: UserEntity;
    try {
      saved = await this.dataSource.transaction(async (manager) => {
        const user = await manager.findOne(UserEntity, { where: { id: userId }, lock: { mode: 'pessimistic_write' } });
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
        const result = await manager.save(user);
        if (changes.status === 'deleted') {
          await revokeSessions(manager, userId, { all: true }, 'user_deleted');
          await manager.query('UPDATE api_keys SET revoked_at = now(), enabled = false WHERE user_id = $1 AND revoked_at IS NULL', [userId]);
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
