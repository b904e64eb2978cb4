import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Facts a handler learns while serving a state-changing request that its audit
 * entry should carry, e.g. whose resource an admin changed. Handlers do not see
 * the HTTP request, so the notes travel in the request's async context: the
 * audit module opens a notes object per audited request and copies what was
 * noted into the entry's metadata (see AuditCapture).
 */
export type AuditNotes = Record<string, string | number | boolean>;

const storage = new AsyncLocalStorage<AuditNotes>();

/** Runs `fn` with `notes` as the current request's audit notes. */
export function withAuditNotes<T>(notes: AuditNotes, fn: () => T): T {
  return storage.run(notes, fn);
}

/** Adds facts to the current request's audit entry; outside an audited request it does nothing. */
export function noteForAudit(facts: AuditNotes): void {
  const notes = storage.getStore();
  if (notes) Object.assign(notes, facts);
}
