import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { API_KEY_STRATEGY, apiKeyOf } from '../../../common/auth/credentials';
import type { Principal } from '../../../common/auth/principal';
import { Principals } from '../principals';
import { PerAppStrategies } from './per-app';

const strategies = new PerAppStrategies<ApiKeyStrategy>();

/**
 * API keys (`X-API-Key: sk-…` or `Authorization: Bearer sk-…`), looked up by
 * Principals.ofApiKey. Which scopes a route accepts is the guard's
 * business; this strategy only says whose key it is.
 */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, API_KEY_STRATEGY) implements OnModuleInit {
  constructor(
    private readonly principals: Principals,
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
    return strategies.for(request, this).principals.ofApiKey(key);
  }
}
