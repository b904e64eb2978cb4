import { noteForAudit } from '../audit/audit-notes';
import type { Principal } from './principal';

/** Who acts on a resource, as ownership checks need it. */
export interface Actor {
  userId: string;
  admin: boolean;
}

export const actorOf = (principal: Pick<Principal, 'user_id' | 'role'>): Actor => ({ userId: principal.user_id, admin: principal.role === 'admin' });

/**
 * The one ownership rule of the API: a user acts on their own resources; an
 * admin on anyone's. When an admin acts on someone else's resource the audit
 * entry records the owner (`owner_id`), the admin being the entry's user.
 * Callers answer 404 when this says no (someone else's private resource is not
 * revealed to exist).
 */
export function mayActOn(actor: Actor, ownerId: string | null | undefined): boolean {
  if (ownerId === actor.userId) return true;
  if (!actor.admin) return false;
  if (ownerId) noteForAudit({ owner_id: ownerId });
  return true;
}
