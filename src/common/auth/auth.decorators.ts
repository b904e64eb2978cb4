import { applyDecorators, createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponse } from '../errors/error-response.dto';
import type { Principal } from './principal';

export const AUTH_REQUIREMENT = 'coderunner:auth';

/** What a route asks of its caller. Routes without any requirement need a user JWT. */
export interface AuthRequirement {
  public?: boolean;
  admin?: boolean;
  /** API keys holding any of these scopes (or `*`) are accepted besides a JWT. */
  apiKeyScopes?: string[];
}

export const SWAGGER_JWT = 'jwt';
export const SWAGGER_OAUTH2 = 'oauth2';
export const SWAGGER_API_KEY = 'api_key';

const userDocs = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ApiBearerAuth(SWAGGER_JWT),
    ApiSecurity(SWAGGER_OAUTH2),
    ApiUnauthorizedResponse({ description: 'UNAUTHORIZED, TOKEN_EXPIRED or TOKEN_REVOKED: missing, invalid, expired or revoked credentials', type: ErrorResponse }),
  );

const DISABLED = 'ACCOUNT_DISABLED: the account is disabled';

/** No credentials needed. */
export const Public = (): MethodDecorator & ClassDecorator =>
  SetMetadata<string, AuthRequirement>(AUTH_REQUIREMENT, { public: true });

/** A logged-in user (JWT). The default; written out so Swagger shows it. */
export const Authenticated = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata<string, AuthRequirement>(AUTH_REQUIREMENT, {}),
    userDocs(),
    ApiForbiddenResponse({ description: DISABLED, type: ErrorResponse }),
  );

/** A logged-in user whose role is admin. */
export const AdminOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata<string, AuthRequirement>(AUTH_REQUIREMENT, { admin: true }),
    userDocs(),
    ApiForbiddenResponse({ description: `FORBIDDEN: the caller is not an admin; ${DISABLED}`, type: ErrorResponse }),
  );

/** A logged-in user, or an API key with one of these scopes. */
export const ApiKeyScopes = (...scopes: string[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata<string, AuthRequirement>(AUTH_REQUIREMENT, { apiKeyScopes: scopes }),
    userDocs(),
    ApiSecurity(SWAGGER_API_KEY),
    ApiForbiddenResponse({ description: `FORBIDDEN: the API key lacks the scope ${scopes.join(' or ')}; ${DISABLED}`, type: ErrorResponse }),
  );

/** The authenticated caller; only on routes that require authentication. */
export const CurrentUser = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const request = context.switchToHttp().getRequest<{ principal?: Principal }>();
  if (!request.principal) throw new Error('@CurrentUser() used on a route without authentication');
  return request.principal;
});
