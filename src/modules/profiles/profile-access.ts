import type { Actor } from '../../common/auth/ownership';
import type { ProfileView } from '../identity/queries/get-profile.query';

/** Whether the actor sees all of a profile: it is public, it is theirs, or they are an admin. */
export function seesFullProfile(actor: Actor, profile: Pick<ProfileView, 'id' | 'is_public'>): boolean {
  return profile.is_public || profile.id === actor.userId || actor.admin;
}
