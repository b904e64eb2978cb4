import { Injectable } from '@nestjs/common';
import { CredentialVerifier, Principal } from '../../common/auth/principal';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { ApiKeyUsageRecorder } from './api-key-usage.recorder';
import { AuthStateCache } from './auth-state.cache';
import { sha256, TokenService } from './token.service';

const API_KEY_FORMAT = /^sk-[A-Za-z0-9]{48}$/;

/** The identity context's answer to "who is this?" for the global AuthGuard. */
@Injectable()
export class IdentityCredentialVerifier implements CredentialVerifier {
  constructor(
    private readonly tokens: TokenService,
    private readonly state: AuthStateCache,
    private readonly usage: ApiKeyUsageRecorder,
  ) {}

  async verifyAccessToken(token: string): Promise<Principal> {
    const claims = this.tokens.verifyAccess(token);
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

  async verifyApiKey(key: string): Promise<Principal> {
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
