import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import type { Authors } from '../authors';
import type { UserCard } from '../../identity/queries/get-user-cards.query';

/**
 * A user whose community pages (followers, following, stats) the actor may
 * see: 404 if there is no such user; 403 if their profile is private and the
 * actor is neither them nor an admin (the profile's existence is public: its
 * username and avatar show on posts and in search).
 */
export async function assertProfileOpen(authors: Authors, actor: Actor, userId: string): Promise<UserCard> {
  const card = (await authors.cardsOf([userId])).get(userId);
  if (!card) throw AppError.notFound('User');
  if (!card.is_public && card.id !== actor.userId && !actor.admin) throw AppError.forbidden('This profile is private');
  return card;
}
