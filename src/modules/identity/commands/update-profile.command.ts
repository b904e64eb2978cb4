import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AppError } from '../../../common/errors/app-error';
import { AuthStateCache } from '../auth-state.cache';
import { UserEntity } from '../entities/user.entity';
import { UserRepository } from '../repositories/user.repository';
import { toProfileView, ProfileView } from '../user.mapper';

/**
 * What a user may change of their own profile. Each field left out stays as it
 * is; null clears a text field. Values come checked and trimmed (the request
 * DTO), an empty text already turned into null.
 */
export interface ProfileChanges {
  name?: string | null;
  bio?: string | null;
  website?: string | null;
  location?: string | null;
  company?: string | null;
  github?: string | null;
  is_public?: boolean;
}

/** A user changes their own profile (PUT /profile). */
export class UpdateProfileCommand extends Command<ProfileView> {
  constructor(
    readonly userId: string,
    readonly changes: ProfileChanges,
  ) {
    super();
  }
}

@CommandHandler(UpdateProfileCommand)
export class UpdateProfileHandler implements ICommandHandler<UpdateProfileCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserRepository,
    private readonly state: AuthStateCache,
  ) {}

  async execute({ userId, changes }: UpdateProfileCommand): Promise<ProfileView> {
    // Locked until the commit: the account checked is not deleted when written (an admin may be deleting it just now).
    const saved = await this.dataSource.transaction(async (manager) => {
      const user = await this.users.lockForUpdate(userId, manager);
      if (!user || user.status === 'deleted') throw AppError.notFound('User');
      const set = <K extends keyof UserEntity>(key: K, value: UserEntity[K] | undefined) => {
        if (value !== undefined) user[key] = value;
      };
      set('name', changes.name);
      set('bio', changes.bio);
      set('website', changes.website);
      set('location', changes.location);
      set('company', changes.company);
      set('github', changes.github);
      set('isPublic', changes.is_public);
      // save() writes only the columns that differ from the row it loaded (and updated_at with them); none: no statement.
      return this.users.save(user, manager);
    });
    // After the commit: GET /users/me is served from AuthStateCache and shows the name.
    await this.state.userChanged(userId);
    return toProfileView(saved);
  }
}
