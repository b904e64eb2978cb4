import { SetMetadata } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../auth/principal';

export const AUDIT_METADATA = 'coderunner:audit';

/**
 * How a state-changing route is named in the audit log. Routes without it are
 * still audited, under a name derived from the path (`api_keys.create`).
 */
export interface AuditSpec {
  /** `<context>.<verb>`, e.g. `user.login`, `api_key.create`. */
  action: string;
  resourceType?: string;
  /**
   * The affected resource's id (default: the `:id` route parameter): from the
   * handler's JSON result, which is then parsed for the audit, or, cheaper, from
   * the request alone (e.g. the caller's own session).
   */
  resourceId?: (result: any, facts: { tokenSubject?: string }) => string | undefined;
  resourceIdFromRequest?: (request: FastifyRequest & { principal?: Principal }) => string | undefined;
  /** Who acted, for public routes such as login and register (default: the authenticated caller). */
  userId?: (result: any) => string | undefined;
  /**
   * Where the response carries an access token we issued (public token-returning
   * routes): its subject, checked with the same key as every request's token, is
   * who acted unless userId says otherwise, and is handed to resourceId.
   */
  accessToken?: (result: any) => unknown;
  /** Named, small, non-secret facts about an accepted request; never passwords, tokens, keys or code. */
  metadata?: (request: FastifyRequest) => Record<string, unknown>;
  /** What a refused request (status >= 400) records of what it sent, e.g. the account a failed login tried; nothing by default. */
  refusedMetadata?: (request: FastifyRequest) => Record<string, unknown>;
}

export const Audit = (spec: AuditSpec): MethodDecorator => SetMetadata(AUDIT_METADATA, spec);

/** The names (never the values) of the fields a request body sets. */
export function fieldsOf(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  return body && typeof body === 'object' ? { fields: Object.keys(body).filter((k) => !/password/i.test(k)) } : {};
}
