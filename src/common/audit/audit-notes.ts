/**
 * Facts a handler learns while serving a request that its audit entry should
 * carry, e.g. whose resource an admin changed. The guard gives each request's
 * principal an empty notes object; handlers reach it through the Actor they
 * are given (see auth/ownership.ts), and the audit module copies it into the
 * entry's metadata. (A request-scoped AsyncLocalStorage would do the same
 * without the plumbing, but on Node 20 it makes every await about three times
 * dearer, for every request.)
 */
export type AuditNotes = Record<string, string | number | boolean>;

/** Adds facts to the request's audit entry (its metadata), e.g. the size and hash of what was stored. */
export function noteForAudit(principal: { auditNotes?: AuditNotes }, facts: AuditNotes): void {
  if (principal.auditNotes) Object.assign(principal.auditNotes, facts);
}
