import type { AuditNotes } from '../audit/audit-notes';

export type Role = 'user' | 'admin';

/** Who is calling: the result of authentication, attached to the request. */
export interface Principal {
  user_id: string;
  username: string;
  role: Role;
  level: string;
  via: 'jwt' | 'api_key';
  session_id?: string;
  api_key_id?: string;
  scopes: string[];
  /** This request's audit notes; set by the guard, one object per request (the rest may come from a cache). */
  auditNotes?: AuditNotes;
}

export const API_KEY_PREFIX = 'sk-';
