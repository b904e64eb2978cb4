import { HttpException } from '@nestjs/common';
import { AppError } from './app-error';
import { ErrorCode, HTTP_STATUS_BY_CODE } from './error-code';

export interface ErrorEnvelope {
  error: { code: string; message: string; details: Record<string, unknown>; request_id: string };
}

export interface DescribedError {
  status: number;
  envelope: ErrorEnvelope;
  headers: Record<string, string>;
  /** Set for errors the client did not cause; the caller logs them with the request id. */
  unexpected: boolean;
}

/** Fastify's own errors (body parsing, content type, size) by their stable code. */
const FASTIFY_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [ErrorCode.PAYLOAD_TOO_LARGE, 'Request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'Unsupported content type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [ErrorCode.BAD_REQUEST, 'Content-Length does not match the body'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [ErrorCode.BAD_REQUEST, 'Body is empty but Content-Type is application/json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [ErrorCode.BAD_REQUEST, 'Malformed JSON body'],
  FST_ERR_BAD_URL: [ErrorCode.BAD_REQUEST, 'Malformed URL (bad percent-encoding)'],
  // Fastify answers 414, which the API's error codes have no code for: a path parameter over 100 characters is a bad request.
  FST_ERR_MAX_PARAM_LENGTH: [ErrorCode.BAD_REQUEST, 'A path parameter is too long'],
};

/**
 * PostgreSQL refuses NUL characters in text ("invalid byte sequence ... 0x00",
 * 22021) and the \u0000 escape in jsonb (22P05). They can only have come
 * from the request, so they are the client's error, not ours.
 */
const NUL_REFUSED = new Set(['22021', '22P05']);

/** Nest's HttpExceptions (unknown route, etc.) by status. */
const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.BAD_REQUEST,
  401: ErrorCode.UNAUTHORIZED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.PAYLOAD_TOO_LARGE,
  415: ErrorCode.UNSUPPORTED_MEDIA_TYPE,
  422: ErrorCode.UNPROCESSABLE,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

/**
 * Turns anything thrown while serving a request into the error envelope. Used by
 * the Nest exception filter and by Fastify's error handler (errors raised before
 * a route handler runs, such as malformed JSON), so both answer identically.
 */
export function describeError(error: unknown, requestId: string): DescribedError {
  const make = (code: ErrorCode, message: string, details: Record<string, unknown> = {}, headers: Record<string, string> = {}, unexpected = false): DescribedError => ({
    status: HTTP_STATUS_BY_CODE[code],
    envelope: { error: { code, message, details, request_id: requestId } },
    headers,
    unexpected,
  });

  if (error instanceof AppError) {
    return make(error.code, error.message, error.details ?? {}, error.headers ?? {});
  }
  // Fastify's and PostgreSQL's errors both carry a stable `code`.
  const errorCode = (error as { code?: unknown })?.code;
  if (typeof errorCode === 'string' && FASTIFY_ERRORS[errorCode]) {
    const [code, message] = FASTIFY_ERRORS[errorCode];
    return make(code, message);
  }
  if (typeof errorCode === 'string' && NUL_REFUSED.has(errorCode)) {
    return make(ErrorCode.BAD_REQUEST, 'Text may not contain NUL (\\u0000) characters');
  }
  if (error instanceof SyntaxError && (error as { statusCode?: number }).statusCode === 400) {
    return make(ErrorCode.BAD_REQUEST, 'Malformed JSON body');
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const code = CODE_BY_STATUS[status];
    if (code) {
      const message = status === 404 ? 'Route not found' : error.message;
      return make(code, message);
    }
  }
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && CODE_BY_STATUS[statusCode] && statusCode < 500) {
    return make(CODE_BY_STATUS[statusCode], (error as Error).message);
  }
  return make(ErrorCode.INTERNAL_ERROR, 'Internal server error', {}, {}, true);
}
