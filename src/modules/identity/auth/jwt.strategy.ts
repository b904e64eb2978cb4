import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import { Strategy } from 'passport-jwt';
import { AccessClaims, AccessTokens } from '../../../common/auth/access-tokens';
import { accessTokenOf, JWT_STRATEGY } from '../../../common/auth/credentials';
import type { Principal } from '../../../common/auth/principal';
import { Principals } from '../principals';
import { PerAppStrategies } from './per-app';

const strategies = new PerAppStrategies<JwtStrategy>();

type Verifier = (token: string, key: unknown, options: object, done: (error: Error | null, claims?: AccessClaims) => void) => void;
const jwtStrategy = Strategy as unknown as { JwtVerifier: Verifier };
const verifyWithJsonwebtoken = jwtStrategy.JwtVerifier;
/** Tokens verified lately, by their text: a client sends the same token with every request for 30 minutes. */
const verified = new LRUCache<string, { claims: AccessClaims; key: unknown }>({ max: 10_000 });

/**
 * Checking a token (HMAC, base64 and JSON parsing in jsonwebtoken: ~10 µs) was
 * the largest part of an authenticated request's CPU. passport-jwt verifies
 * through a public, replaceable static (JwtStrategy.JwtVerifier); this one
 * recognises a token it verified before, with the same key, until it expires,
 * and asks jsonwebtoken otherwise (so an expired one still gets its
 * TokenExpiredError). Session state is checked on every request regardless.
 */
jwtStrategy.JwtVerifier = (token, key, options, done) => {
  const known = verified.get(token);
  if (known && known.key === key && known.claims.exp * 1000 > Date.now()) return done(null, known.claims);
  verifyWithJsonwebtoken(token, key, options, (error, claims) => {
    if (!error && claims) verified.set(token, { claims, key });
    done(error, claims);
  });
};

/**
 * Access tokens (passport-jwt): the signature and expiry are checked by
 * passport-jwt with the shared key; then Principals.ofSession: that the
 * session is still live and what the user's role, level and status are now.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) implements OnModuleInit {
  constructor(
    tokens: AccessTokens,
    private readonly principals: Principals,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    // passport-jwt hands the key to jsonwebtoken as it is; a KeyObject is what keeps verification cheap.
    super({ jwtFromRequest: accessTokenOf, secretOrKey: tokens.key as unknown as string, algorithms: ['HS256'], passReqToCallback: true });
  }

  onModuleInit(): void {
    strategies.register(this.adapterHost.httpAdapter?.getInstance<FastifyInstance>(), this);
  }

  validate(request: FastifyRequest, claims: AccessClaims): Promise<Principal> {
    return strategies.for(request, this).principals.ofSession(claims);
  }
}
