import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { API_KEY_STRATEGY, apiKeyOf } from '../../../common/auth/credentials';
import type { Principal } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { ApiKeyUsageRecorder } from '../api-key-usage.recorder';
import { AuthStateCache } from '../auth-state.cache';
import { sha256 } from '../token.service';
import { PerAppStrategies } from './per-app';

const API_KEY_FORMAT = /^sk-[A-Za-z0-9]{48}$/;
const strategies = new PerAppStrategies<ApiKeyStrategy>();

/**
 * API keys (`X-API-Key: sk-…` or `Authorization: Bearer sk-…`), looked up by
 * their SHA-256 in AuthStateCache. Which scopes a route accepts is the guard's
 * business; this strategy only says whose key it is.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) implements OnModuleInit {
  constructor(
    private readonly state: AuthStateCache,
    private readonly usage: ApiKeyUsageRecorder,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    super();
  }

  onModuleInit(): void {
    strategies.register(this.adapterHost.httpAdapter?.getInstance<FastifyInstance>(), this);
  }

  /** undefined when the request carries no API key: passport then counts this strategy as failed, not errored. */
  async validate(request: FastifyRequest): Promise<Principal | undefined> {
    const key = apiKeyOf(request);
    if (key === undefined) return undefined;
    return strategies.for(request, this).principalOf(key);
  }

  private async principalOf(key: string): Promise<Principal> {
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
