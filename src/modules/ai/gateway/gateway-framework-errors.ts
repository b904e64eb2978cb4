import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { ErrorEnvelope } from '../../../common/errors/error-envelope';
import { openAiErrorOf } from './openai-error.filter';

/** The gateway's routes as Fastify knows them (outside the /api/v1 prefix). */
export const GATEWAY_ROUTES = new Set(['/v1/chat/completions', '/v1/models']);

function isEnvelope(body: unknown): body is ErrorEnvelope {
  const error = (body as { error?: { code?: unknown; request_id?: unknown } } | null)?.error;
  return typeof error?.code === 'string' && typeof error.request_id === 'string';
}

/**
 * What Fastify refuses on a gateway route before the route runs (a malformed
 * JSON body, a wrong content type, a body over the limit) is answered by the
 * app-wide error handler in the envelope; OpenAiErrorFilter never sees it.
 * This rewrites such answers into OpenAI's shape, keeping their status.
 */
@Injectable()
export class GatewayFrameworkErrors implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    fastify.addHook('onSend', (request, reply, payload, done) => {
      if (reply.statusCode < 400 || typeof payload !== 'string' || !GATEWAY_ROUTES.has(request.routeOptions.url ?? '')) return done(null, payload);
      let body: unknown;
      try {
        body = JSON.parse(payload);
      } catch {
        return done(null, payload);
      }
      if (!isEnvelope(body)) return done(null, payload);
      done(null, JSON.stringify(openAiErrorOf({ status: reply.statusCode, envelope: body, headers: {}, unexpected: false })));
    });
  }
}
