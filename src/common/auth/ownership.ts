import type { AuditNotes } from '../audit/audit-notes';
import type { Principal } from './principal';

/** Who acts on a resource, as ownership checks need it. */
export interface Actor {
  userId: string;
  admin: boolean;
  /** The request's audit notes (from its principal), where mayActOn records the owner. */
  auditNotes?: AuditNotes;
}

export const actorOf = (principal: Pick<Principal, 'user_id' | 'role' | 'auditNotes'>): Actor => ({
  userId: principal.user_id,
  admin: principal.role === 'admin',
  auditNotes: principal.auditNotes,
});

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
  if (ownerId && actor.auditNotes) actor.auditNotes.owner_id = ownerId;
  return true;
}

/**
 * Reading (and running, copying) a resource that can be shared: anyone may
 * read a public one; a private one only those mayActOn allows. Public comes
 * first, so an admin reading a public resource is not noted as reaching into
 * someone else's.
 */
export function mayRead(actor: Actor, resource: { userId: string; isPublic: boolean }): boolean {
  return resource.isPublic || mayActOn(actor, resource.userId);
}
