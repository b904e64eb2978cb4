import { parse as parseQueryString } from 'node:querystring';
import { applyDecorators } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import { ApiConsumes } from '@nestjs/swagger';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error';
import { ErrorCode } from '../errors/error-code';
import { exceedsJsonDepth, hasMalformedPercentEncoding, holdsLoneSurrogate, mayHoldEscapedSurrogate } from './text-checks';

/**
 * Deeper JSON is refused before it is parsed: no request body of this API
 * nests more than a few levels, class-transformer and class-validator recurse
 * once per level (thousands of levels overflow the stack), and JSON.parse
 * itself takes about a second for a megabyte of `[`.
 */
export const MAX_JSON_DEPTH = 64;

const FORM = 'application/x-www-form-urlencoded';

/** Fastify route config set by @AcceptsFormBody. */
interface FormBodyConfig {
  acceptsFormBody?: true;
}

const MULTIPART = 'multipart/form-data';

interface MultipartConfig {
  acceptsMultipart?: true;
}

/**
 * The route reads a multipart/form-data body itself, as a stream of parts
 * (`request.parts()` of @fastify/multipart); every other route answers such a
 * body 415. Nothing of the body is read before the handler asks for it.
 */
export const AcceptsMultipart = (): MethodDecorator =>
  applyDecorators(RouteConfig({ acceptsMultipart: true } satisfies MultipartConfig), ApiConsumes(MULTIPART));

/**
 * Registers @fastify/multipart (after the parsers above: it adds its own for
 * multipart/form-data) and refuses multipart bodies on routes that do not say
 * they take one. Limits on sizes are the upload handler's (per plan).
 */
export async function registerMultipart(fastify: FastifyInstance): Promise<void> {
  await fastify.register(multipart, {
    // File names exactly as sent: a name holding a path is refused by the upload, never cut down to its last segment.
    preservePath: true,
    // No size limit here: the upload enforces the caller's plan as the bytes stream in.
    limits: { fileSize: Number.MAX_SAFE_INTEGER, fields: 20, fieldNameSize: 100, fieldSize: 4096, parts: 1000, headerPairs: 100 },
  });
  fastify.addHook('preValidation', (request, _reply, done) => {
    if (request.isMultipart() && (request.routeOptions.config as MultipartConfig).acceptsMultipart !== true && !request.is404) {
      done(new AppError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'This operation takes a JSON body (application/json), not multipart/form-data'));
      return;
    }
    done();
  });
}

/**
 * For the few operations that take an HTML form (the OAuth2 token endpoint):
 * every other one answers a form body with 415. Also documents the form in Swagger.
 */
export const AcceptsFormBody = (): MethodDecorator => applyDecorators(RouteConfig({ acceptsFormBody: true } satisfies FormBodyConfig), ApiConsumes(FORM));

/**
 * The body parsers, in place of Fastify's and Nest's defaults: JSON for every
 * operation, a form where a route declares it (@AcceptsFormBody), nothing else
 * (415). Both refuse text that would only fail later, deep in a library.
 */
export function registerBodyParsers(fastify: FastifyInstance): void {
  // Fastify's own, for its error codes and its prototype-poisoning protection
  // (`__proto__` and `constructor.prototype` keys answer 400).
  const parseJson = fastify.getDefaultJsonParser('error', 'error');

  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, text: string, done) => {
    if (exceedsJsonDepth(text, MAX_JSON_DEPTH)) {
      done(AppError.badRequest(`JSON body nests deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parseJson(request, text, (error, body) => {
      if (error) {
        done(error, undefined);
      } else if (mayHoldEscapedSurrogate(text) && holdsLoneSurrogate(body)) {
        done(AppError.badRequest('JSON body is not valid Unicode (a lone UTF-16 surrogate such as \\ud800)'), undefined);
      } else {
        done(null, body);
      }
    });
  });
  fastify.addContentTypeParser(FORM, { parseAs: 'string' }, (request: FastifyRequest, text: string, done) => {
    // An unknown route answers 404, whatever its body.
    if ((request.routeOptions.config as FormBodyConfig).acceptsFormBody !== true && !request.is404) {
      done(new AppError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'This operation takes a JSON body (application/json), not a form'), undefined);
      return;
    }
    if (hasMalformedPercentEncoding(text)) {
      done(AppError.badRequest('Malformed form body (bad percent-encoding)'), undefined);
      return;
    }
    const body = parseQueryString(text);
    // The object has no prototype, so `__proto__` is an ordinary key here, and
    // would replace the prototype of an object it is copied onto.
    if (Object.hasOwn(body, '__proto__')) {
      done(AppError.badRequest('Object contains forbidden prototype property'), undefined);
      return;
    }
    done(null, body);
  });
}
