import { Inject, Injectable } from '@nestjs/common';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { APP_CONFIG, AppConfig, SECRETS } from '../../config/app-config';
import type { Secrets } from '../../config/secrets';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';

const VERIFIED_CACHE_SIZE = 10_000;

export interface AccessClaims {
  sub: string;
  email: string;
  username: string;
  role: string;
  sid: string;
  iat: number;
  exp: number;
}

export interface IssuedTokens {
  access: string;
  refresh: string;
  token_type: 'Bearer';
  expires_in: number;
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * HS256 access tokens with fast-jwt (a prepared verifier: no per-request key
 * parsing, and verified tokens remembered), and opaque refresh tokens of
 * the form `<session id>.<random>`: the id finds the session, the random part
 * is compared by hash, and a mismatch means an old (rotated) token was reused.
 */
@Injectable()
export class TokenService {
  private readonly sign: (claims: Record<string, unknown>) => string;
  private readonly verify: (token: string) => AccessClaims;
  private readonly verified = new Map<string, AccessClaims>();
  readonly accessTtlSeconds: number;
  readonly refreshTtlSeconds: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(SECRETS) secrets: Secrets) {
    this.accessTtlSeconds = config.auth.accessTokenTtlSeconds;
    this.refreshTtlSeconds = config.auth.refreshTokenTtlSeconds;
    this.sign = createSigner({ key: secrets.jwtSecret, algorithm: 'HS256', expiresIn: this.accessTtlSeconds * 1000 });
    this.verify = createVerifier({ key: secrets.jwtSecret, algorithms: ['HS256'] }) as (token: string) => AccessClaims;
  }

  issue(user: { id: string; email: string; username: string; role: string }, sessionId: string, refreshSecret: string): IssuedTokens {
    return {
      access: this.sign({ sub: user.id, email: user.email, username: user.username, role: user.role, sid: sessionId }),
      refresh: `${sessionId}.${refreshSecret}`,
      token_type: 'Bearer',
      expires_in: this.accessTtlSeconds,
    };
  }

  newSessionId(): string {
    return randomUUID();
  }

  newRefreshSecret(): string {
    return randomBytes(32).toString('base64url');
  }

  verifyAccess(token: string): AccessClaims {
    // Tokens already verified are recognised by their exact text: a Map lookup
    // instead of hashing and an HMAC on every request. Expiry is still checked.
    const known = this.verified.get(token);
    if (known) {
      if (known.exp * 1000 > Date.now()) return known;
      this.verified.delete(token);
      throw new AppError(ErrorCode.TOKEN_EXPIRED, 'Access token has expired');
    }
    try {
      const claims = this.verify(token);
      if (this.verified.size >= VERIFIED_CACHE_SIZE) this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, claims);
      return claims;
    } catch (error) {
      if (error instanceof TokenError && error.code === TokenError.codes.expired) {
        throw new AppError(ErrorCode.TOKEN_EXPIRED, 'Access token has expired');
      }
      throw new AppError(ErrorCode.UNAUTHORIZED, 'Invalid access token');
    }
  }

  /** Splits a refresh token; undefined when it is not one of ours. */
  parseRefresh(token: string): { sessionId: string; secretHash: string } | undefined {
    const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
    return match ? { sessionId: match[1], secretHash: sha256(match[2]) } : undefined;
  }
}
