import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { AccessTokens } from '../../common/auth/access-tokens';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

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
 * HS256 access tokens (signed with the shared AccessTokens key; checked by the
 * passport JWT strategy), and opaque refresh tokens of the form
 * `<session id>.<random>`: the id finds the session, the random part is
 * compared by hash, and a mismatch means an old (rotated) token was reused.
 */
@Injectable()
export class TokenService {
  readonly accessTtlSeconds: number;
  readonly refreshTtlSeconds: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly accessTokens: AccessTokens,
  ) {
    this.accessTtlSeconds = accessTokens.ttlSeconds;
    this.refreshTtlSeconds = config.auth.refreshTokenTtlSeconds;
  }

  issue(user: { id: string; email: string; username: string; role: string }, sessionId: string, refreshSecret: string): IssuedTokens {
    return {
      access: this.accessTokens.sign({ sub: user.id, email: user.email, username: user.username, role: user.role, sid: sessionId }),
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

  /** Splits a refresh token; undefined when it is not one of ours. */
  parseRefresh(token: string): { sessionId: string; secretHash: string } | undefined {
    const match = /^([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/.exec(token);
    return match ? { sessionId: match[1], secretHash: sha256(match[2]) } : undefined;
  }
}
