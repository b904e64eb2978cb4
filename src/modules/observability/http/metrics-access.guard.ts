import { createHash, timingSafeEqual } from 'node:crypto';
import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { apiKeyOf, hasCredentials } from '../../../common/auth/credentials';
import { AppError } from '../../../common/errors/app-error';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { AuthenticateTokenQuery } from '../../identity/queries/authenticate-token.query';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Who may read GET /metrics: a scraper with `Authorization: Bearer $METRICS_TOKEN`
 * (compared in constant time), or an admin's JWT. The route is @Public() for
 * the global AuthGuard, which knows no METRICS_TOKEN; this guard judges the
 * credentials instead, with the identity context's AuthenticateTokenQuery (the
 * same answers: 401 without or with bad credentials, 403 for a user or an API key).
 */
@Injectable()
export class MetricsAccessGuard implements CanActivate {
  private readonly token?: Buffer;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly queries: QueryBus,
  ) {
    this.token = config.metricsToken === undefined ? undefined : digest(config.metricsToken);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!hasCredentials(request)) throw AppError.unauthorized();
    const bearer = bearerOf(request);
    if (this.token && bearer !== undefined && timingSafeEqual(digest(bearer), this.token)) return true;

    const principal = await this.queries.execute(new AuthenticateTokenQuery(apiKeyOf(request) ?? bearer ?? ''));
    if (principal.via === 'api_key') throw AppError.forbidden('This endpoint needs an admin login or METRICS_TOKEN; API keys are not accepted');
    if (principal.role !== 'admin') throw AppError.forbidden('Admin role required');
    return true;
  }
}

function bearerOf(request: FastifyRequest): string | undefined {
  const [scheme, value] = (request.headers.authorization ?? '').split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' && value ? value : undefined;
}
