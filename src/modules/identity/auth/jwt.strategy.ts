import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Strategy } from 'passport-jwt';
import { AccessClaims, AccessTokens } from '../../../common/auth/access-tokens';
import { accessTokenOf, JWT_STRATEGY } from '../../../common/auth/credentials';
import type { Principal } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { AuthStateCache } from '../auth-state.cache';
import { PerAppStrategies } from './per-app';

const strategies = new PerAppStrategies<JwtStrategy>();

/**
 * Access tokens (passport-jwt): the signature and expiry are checked by
 * passport-jwt with the shared key; here, that the session is still live and
 * what the user's role, level and status are now (from AuthStateCache, so a
 * logout or a disabled account takes effect on the next request).
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) implements OnModuleInit {
  constructor(
    tokens: AccessTokens,
    private readonly state: AuthStateCache,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    // passport-jwt hands the key to jsonwebtoken as it is; a KeyObject is what keeps verification cheap.
    super({ jwtFromRequest: accessTokenOf, secretOrKey: tokens.key as unknown as string, algorithms: ['HS256'], passReqToCallback: true });
  }

  onModuleInit(): void {
    strategies.register(this.adapterHost.httpAdapter?.getInstance<FastifyInstance>(), this);
  }

  validate(request: FastifyRequest, claims: AccessClaims): Promise<Principal> {
    return strategies.for(request, this).principalOf(claims);
  }

  private async principalOf(claims: AccessClaims): Promise<Principal> {
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
}
