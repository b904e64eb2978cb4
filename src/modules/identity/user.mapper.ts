import type { Role } from '../../common/auth/principal';
import { UserEntity, UserStatus } from './entities/user.entity';
import type { UserCardRow } from './repositories/user.repository';

/** A user as the API shows it: a whitelist, so the password hash can never leak. */
export interface UserView {
  id: string;
  username: string;
  email: string;
  name: string | null;
  role: string;
  level: string;
  status: string;
  email_verified: boolean;
  avatar_url: string | null;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

export function toUserView(user: UserEntity): UserView {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    role: user.role,
    level: user.level,
    status: user.status,
    email_verified: user.emailVerified,
    avatar_url: user.avatarUrl,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    last_login_at: user.lastLoginAt ? user.lastLoginAt.toISOString() : null,
  };
}

/** Turns a unique-index violation on users into the field that clashed. */
export function duplicateUserField(error: unknown): 'username' | 'email' | undefined {
  const { code, constraint } = error as { code?: string; constraint?: string };
  if (code !== '23505') return undefined;
  if (constraint === 'users_username_lower_key') return 'username';
  if (constraint === 'users_email_lower_key') return 'email';
  return undefined;
}

/** A user's profile as its owner sees it (GET and PUT /profile): a whitelist. */
export interface ProfileFields {
  id: string;
  username: string;
  email: string;
  name: string | null;
  bio: string | null;
  website: string | null;
  location: string | null;
  company: string | null;
  github: string | null;
  avatar_url: string | null;
  is_public: boolean;
  created_at: string;
  updated_at: string;
}

/**
 * A profile with what other contexts need to decide who may see it. It
 * includes the email: a caller showing someone else's profile leaves it out,
 * as it does every field its own response does not name.
 */
export interface ProfileView extends ProfileFields {
  /** Never `deleted`: a deleted user has no profile. */
  status: UserStatus;
  role: Role;
}

/** How other contexts show a user next to what they did (an author, a follower, a search hit). */
export interface UserCard {
  id: string;
  username: string;
  name: string | null;
  avatar_url: string | null;
  is_public: boolean;
}

export function toProfileView(user: UserEntity): ProfileView {
  return {
    id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    bio: user.bio,
    website: user.website,
    location: user.location,
    company: user.company,
    github: user.github,
    avatar_url: user.avatarUrl,
    is_public: user.isPublic,
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    status: user.status,
    role: user.role,
  };
}

/** The owner's own view of a profile: everything but status and role (GET /users/me shows those). */
export function toProfileFields(view: ProfileView): ProfileFields {
  return {
    id: view.id,
    username: view.username,
    email: view.email,
    name: view.name,
    bio: view.bio,
    website: view.website,
    location: view.location,
    company: view.company,
    github: view.github,
    avatar_url: view.avatar_url,
    is_public: view.is_public,
    created_at: view.created_at,
    updated_at: view.updated_at,
  };
}

export function toUserCard(row: UserCardRow): UserCard {
  return { id: row.id, username: row.username, name: row.name, avatar_url: row.avatar_url, is_public: row.is_public };
}
