import type { Socket } from 'node:net';
import { RequestMethod } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../../config/app-config';
import { AppError } from '../errors/app-error';
import { ErrorFilter } from '../errors/error.filter';
import { createValidationPipe } from '../errors/validation.pipe';
import { AppLogger } from '../logging/app-logger';
import { registerBodyParsers, registerMultipart } from './body-parsers';
import { API_SECURITY_HEADERS, computeHtmlSecurityHeaders } from './security-headers';
import { API_PREFIX, buildOpenApiDocument, setupSwagger } from './swagger';
import { hasMalformedPercentEncoding } from './text-checks';

/**
 * Everything HTTP that is not a route: prefix, headers on every response,
 * access log, body parsers, query checks, CORS, validation, the error envelope
 * (also for errors Fastify raises before a route runs), connections closed on
 * shutdown, and Swagger.
 */
export async function configureHttp(app: NestFastifyApplication, config: AppConfig, logger: AppLogger): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  const apiHeaders = { ...API_SECURITY_HEADERS, 'x-api-version': 'v1' };
  const htmlHeaders = { ...computeHtmlSecurityHeaders(), 'x-api-version': 'v1' };

  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.headers(request.url.startsWith('/docs') ? htmlHeaders : apiHeaders).header('x-request-id', request.id);
    if (malformedQuery(request.url)) {
      done(AppError.badRequest('Malformed query string (bad percent-encoding)'));
      return;
    }
    done();
  });
  // The level is fixed at start: below info, the access log costs nothing at all.
  if (logger.pino.isLevelEnabled('info')) {
    fastify.addHook('onResponse', (request, reply, done) => {
      logger.pino.info(
        { request_id: request.id, method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
        'request',
      );
      done();
    });
  }

  // Once closing has begun, responses end their connection. Closing waits for open
  // connections, and closes those idle at that moment only: a keep-alive
  // connection whose response was still being written (waiting for its audit
  // entry, a run being stopped) would otherwise hold the server open.
  let closing = false;
  // Connections with no request under way: a client may open one and send nothing (browsers and
  // undici open spare ones). Node's closeIdleConnections leaves those until its headers timeout,
  // so they are closed here; a connection serving a request keeps it to the end.
  const connections = new Set<Socket>();
  fastify.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  fastify.addHook('preClose', (done) => {
    closing = true;
    for (const socket of connections) {
      if (!(socket as Socket & { _httpMessage?: unknown })._httpMessage) socket.destroy();
    }
    done();
  });
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (closing) void reply.header('connection', 'close');
    done(null, payload);
  });

  registerBodyParsers(fastify);
  await registerMultipart(fastify);

  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: '/', method: RequestMethod.GET },
      // The OpenAI-compatible gateway (modules/ai/gateway) lives where OpenAI clients look for it: /v1.
      { path: 'v1/chat/completions', method: RequestMethod.POST },
      { path: 'v1/models', method: RequestMethod.GET },
      // Prometheus scrapes /metrics (modules/observability).
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
  // Without CORS_ORIGINS no cross-origin browser access is granted, and no CORS work is done per request.
  if (config.corsOrigins.length > 0) {
    app.enableCors({
      origin: config.corsOrigins.includes('*') ? true : config.corsOrigins,
      credentials: true,
      // @fastify/cors allows only GET, HEAD and POST by default, which would block
      // every PUT, PATCH and DELETE of a single-page app on another origin.
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      // The request headers the API reads. Content-Type is listed because
      // application/json is not a CORS-safelisted value; a header not listed here
      // is refused by the browser's preflight.
      allowedHeaders: ['Authorization', 'Content-Type', 'X-API-Key', 'Idempotency-Key', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'X-API-Version', 'X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset', 'Retry-After'],
      // Browsers may reuse a preflight answer this long instead of sending one
      // before every request; 7200 s is Chromium's upper bound (Firefox allows more).
      maxAge: 7200,
    });
  }
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new ErrorFilter(logger));
  setupSwagger(app, buildOpenApiDocument(app));
}

/**
 * Fastify's query parser keeps an escape it cannot decode (`%ff`, `%ed%a0%80`,
 * a lone `%`) as it is, so such a value would reach a handler undecoded; the
 * path answers 400 for them (FST_ERR_BAD_URL), and so does the query.
 */
function malformedQuery(url: string): boolean {
  const query = url.indexOf('?');
  return query !== -1 && hasMalformedPercentEncoding(url.slice(query + 1));
}
