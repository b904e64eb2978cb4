import { Injectable } from '@nestjs/common';
import { TokenExpiredError } from 'jsonwebtoken';
import { AccessClaims, AccessTokens } from '../../common/auth/access-tokens';
import { API_KEY_PREFIX, Principal } from '../../common/auth/principal';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder';
import { AuthStateCache } from './auth-state.cache';
import { sha256 } from './token.service';

const API_KEY_FORMAT = /^sk-[A-Za-z0-9]{48}$/;

/**
 * Who a credential belongs to now: the one place that turns a verified
 * access token's claims or an API key into a Principal, for the passport
 * strategies (HTTP) and AuthenticateTokenQuery (the WebSocket gateway). Session
 * and key state come from AuthStateCache, so a logout, a deleted key or a
 * disabled account takes effect on the next lookup.
 */
@Injectable()
export class Principals {
  constructor(
    private readonly state: AuthStateCache,
    private readonly usage: ApiKeyUsageRecorder,
    private readonly tokens: AccessTokens,
  ) {}

  /** A token of either kind: an API key (`sk-…`) or an access token, whose signature and expiry are checked here. */
  async ofToken(token: string): Promise<Principal> {
    if (token.startsWith(API_KEY_PREFIX)) return this.ofApiKey(token);
    let claims: AccessClaims;
    try {
      claims = this.tokens.verify(token);
    } catch (error) {
      if (error instanceof TokenExpiredError) throw new AppError(ErrorCode.TOKEN_EXPIRED, 'Access token has expired');
      throw AppError.unauthorized('Invalid access token');
    }
    return this.ofSession(claims);
  }

  /** A verified access token's session, if it is still live. */
  async ofSession(claims: AccessClaims): Promise<Principal> {
    const session = await this.state.session(claims.sid);
    if (!session || session.userId !== claims.sub || session.revoked || session.status === 'deleted' || session.expiresAt <= Date.now()) {
      throw new AppError(ErrorCode.TOKEN_REVOKED, 'This session has been revoked; log in again');
    }
    if (session.status === 'disabled') throw new AppError(ErrorCode.ACCOUNT_DISABLED, 'This account is disabled');
    return {
      user_id: session.userId,
      username: session.username,
      role: session.role,
      level: session.level,
      via: 'jwt',
      session_id: claims.sid,
      scopes: ['*'],
    };
  }

  /** An API key's owner and scopes, if the key is usable; each use is counted. */
  async ofApiKey(key: string): Promise<Principal> {
    const invalid = new AppError(ErrorCode.UNAUTHORIZED, 'API key is invalid, disabled, expired or deleted');
    if (!API_KEY_FORMAT.test(key)) throw invalid;
    const state = await this.state.key(sha256(key));
    if (!state || !state.usable || state.status === 'deleted') throw invalid;
    if (state.expiresAt !== null && state.expiresAt <= Date.now()) throw invalid;
    if (state.status === 'disabled') throw new AppError(ErrorCode.ACCOUNT_DISABLED, 'This account is disabled');
    this.usage.record(state.keyId);
    return {
      user_id: state.userId,
      username: state.username,
      role: state.role,
      level: state.level,
      via: 'api_key',
      api_key_id: state.keyId,
      scopes: state.scopes,
    };
  }
}
