import type { FastifyRequest } from 'fastify';
import { API_KEY_PREFIX } from './principal';

/** The passport strategies the guard asks, in order; the identity context provides them. */
export const JWT_STRATEGY = 'jwt';
export const API_KEY_STRATEGY = 'api-key';

/**
 * Where credentials travel: a JWT as `Authorization: Bearer <jwt>`, an API key
 * as `X-API-Key: sk-…` or `Authorization: Bearer sk-…`. Each passport strategy
 * takes only its own kind, so a request is never judged by the wrong one.
 */
function bearerOf(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (!authorization) return undefined;
  const [scheme, value] = authorization.split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' && value ? value : undefined;
}

function apiKeyHeaderOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

export function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = apiKeyHeaderOf(request);
  if (header) return header;
  const bearer = bearerOf(request);
  return bearer?.startsWith(API_KEY_PREFIX) ? bearer : undefined;
}

/** The bearer JWT, unless the request carries an API key (which then decides alone). */
export function accessTokenOf(request: FastifyRequest): string | null {
  if (apiKeyOf(request)) return null;
  return bearerOf(request) ?? null;
}

/** Either kind of credential: an X-API-Key header or any bearer value (one header read each). */
export function hasCredentials(request: FastifyRequest): boolean {
  return apiKeyHeaderOf(request) !== undefined || bearerOf(request) !== undefined;
}
