import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard as PassportAuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { TokenExpiredError } from 'jsonwebtoken';
import { AppError } from '../errors/app-error';
import { ErrorCode } from '../errors/error-code';
import { AUTH_REQUIREMENT, AuthRequirement } from './auth.decorators';
import { API_KEY_STRATEGY, hasCredentials, JWT_STRATEGY } from './credentials';
import type { Principal } from './principal';

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/**
 * Secure by default: every route needs a user JWT unless it says otherwise with
 * @Public(), @AdminOnly() or @ApiKeyScopes(...). Who is calling is passport's
 * answer (the identity context's `jwt` and `api-key` strategies, tried in that
 * order); what they may do here is this guard's: an API key only where the
 * route names one of its scopes, admin routes only for admins. The principal is
 * copied per request, so the request's audit notes are its own.
 */
@Injectable()
export class AuthGuard extends PassportAuthGuard([JWT_STRATEGY, API_KEY_STRATEGY]) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const requirement =
      this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [context.getHandler(), context.getClass()]) ?? {};
    if (requirement.public) return true;

    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // Passport would answer a missing credential as two failed strategies; say it plainly, and save the work.
    if (!hasCredentials(request)) throw AppError.unauthorized();
    await super.canActivate(context);
    const principal = request.principal!;

    if (principal.via === 'api_key') {
      const accepted = requirement.apiKeyScopes;
      if (!accepted) throw AppError.forbidden('This endpoint needs a user login; API keys are not accepted');
      if (!principal.scopes.includes('*') && !accepted.some((scope) => principal.scopes.includes(scope))) {
        throw AppError.forbidden(`The API key lacks the scope ${accepted.join(' or ')}`);
      }
    }
    if (requirement.admin && principal.role !== 'admin') throw AppError.forbidden('Admin role required');
    return true;
  }

  /** Stores the principal where the app reads it (request.principal), not in passport's session. */
  override getAuthenticateOptions(): { session: false; property: string } {
    return { session: false, property: 'principal' };
  }

  /**
   * A strategy's own AppError (revoked session, disabled account, bad key) is
   * the answer; otherwise only the JWT strategy can have failed with a reason
   * (passport gives one per strategy, in order).
   */
  override handleRequest<T = Principal>(error: unknown, principal: T | false, info: unknown): T {
    if (error) throw error;
    if (principal) return { ...principal, auditNotes: {} };
    const jwtFailure = Array.isArray(info) ? info[0] : info;
    if (jwtFailure instanceof TokenExpiredError) throw new AppError(ErrorCode.TOKEN_EXPIRED, 'Access token has expired');
    throw AppError.unauthorized('Invalid access token');
  }
}
