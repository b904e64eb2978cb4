import { UserEntity } from './entities/user.entity';

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
