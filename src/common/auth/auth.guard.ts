import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { AUTH_REQUIREMENT, AuthRequirement } from './auth.decorators';
import { API_KEY_PREFIX, CREDENTIAL_VERIFIER, CredentialVerifier, Principal } from './principal';

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

type Credential = { kind: 'jwt' | 'api_key'; value: string };

function credentialOf(request: FastifyRequest): Credential | undefined {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return { kind: 'api_key', value: apiKey };
  const authorization = request.headers.authorization;
  if (!authorization) return undefined;
  const [scheme, value] = authorization.split(' ', 2);
  if (scheme?.toLowerCase() !== 'bearer' || !value) return undefined;
  return { kind: value.startsWith(API_KEY_PREFIX) ? 'api_key' : 'jwt', value };
}

/**
 * Secure by default: every route needs a user JWT unless it says otherwise with
 * @Public(), @AdminOnly() or @ApiKeyScopes(...).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(CREDENTIAL_VERIFIER) private readonly verifier: CredentialVerifier,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const requirement =
      this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [context.getHandler(), context.getClass()]) ?? {};
    if (requirement.public) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const credential = credentialOf(request);
    if (!credential) throw AppError.unauthorized();

    let principal: Principal;
    if (credential.kind === 'jwt') {
      principal = await this.verifier.verifyAccessToken(credential.value);
    } else {
      principal = await this.verifier.verifyApiKey(credential.value);
      const accepted = requirement.apiKeyScopes;
      if (!accepted) throw AppError.forbidden('This endpoint needs a user login; API keys are not accepted');
      if (!principal.scopes.includes('*') && !accepted.some((scope) => principal.scopes.includes(scope))) {
        throw AppError.forbidden(`The API key lacks the scope ${accepted.join(' or ')}`);
      }
    }
    request.principal = { ...principal, auditNotes: {} };
    if (requirement.admin && principal.role !== 'admin') throw AppError.forbidden('Admin role required');
    return true;
  }
}
