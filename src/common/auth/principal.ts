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

/**
 * Implemented by the identity context. The global guard lives in common/ and
 * must not know identity's tables, so it asks through this port.
 */
export interface CredentialVerifier {
  verifyAccessToken(token: string): Promise<Principal>;
  verifyApiKey(key: string): Promise<Principal>;
}

export const CREDENTIAL_VERIFIER = Symbol('CREDENTIAL_VERIFIER');

export const API_KEY_PREFIX = 'sk-';
