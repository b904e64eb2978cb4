import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { drainRefusedBody } from '../http/refused-body';
import { AppLogger } from '../logging/app-logger';
import { ErrorCode } from './error-code';
import { DescribedError, describeError } from './error-envelope';
import { sendError } from './error.filter';
import type { OAuth2ErrorCode } from './error-response.dto';

interface OAuth2Error {
  status: number;
  error: OAuth2ErrorCode;
}

/**
 * The token endpoint's refusals in RFC 6749 §5.2's shape, `{error, error_description}`:
 * OAuth2 clients (Swagger UI's Authorize dialog among them) read that, not the
 * error envelope. There is no client authentication, so never `invalid_client`.
 * RFC 6749 has no code for a locked account or a rate limit: those keep 429 and
 * Retry-After, with `temporarily_unavailable` (try again later) rather than
 * `invalid_grant`, which would tell the client that the password is wrong.
 */
function oauth2ErrorOf(described: DescribedError, body: unknown): OAuth2Error | undefined {
  switch (described.envelope.error.code) {
    case ErrorCode.VALIDATION_ERROR: {
      const grantType = (body as { grant_type?: unknown } | undefined)?.grant_type;
      const unsupported = typeof grantType === 'string' && grantType !== 'password';
      return { status: 400, error: unsupported ? 'unsupported_grant_type' : 'invalid_request' };
    }
    case ErrorCode.BAD_REQUEST:
      return { status: 400, error: 'invalid_request' };
    case ErrorCode.INVALID_CREDENTIALS:
    case ErrorCode.ACCOUNT_DISABLED:
      return { status: 400, error: 'invalid_grant' };
    case ErrorCode.RATE_LIMITED:
      return { status: 429, error: 'temporarily_unavailable' };
    default:
      return undefined;
  }
}

/** What validation said about each field, as one sentence for error_description. */
function descriptionOf(described: DescribedError): string {
  const fields = described.envelope.error.details.fields as Record<string, string[]> | undefined;
  return fields ? Object.values(fields).flat().join('; ') : described.envelope.error.message;
}

/**
 * Bound to POST /auth/token only (@UseFilters); every other route keeps the
 * envelope. What it does not translate (server errors) gets the envelope too.
 */
@Catch()
export class OAuth2ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const described = describeError(error, String(request.id));
    const oauth2 = oauth2ErrorOf(described, request.body);
    if (!oauth2) {
      sendError(error, request, reply, this.logger);
      return;
    }
    // The audit log records the app's own error code, as for every other route.
    (request as FastifyRequest & { errorCode?: string }).errorCode = described.envelope.error.code;
    if (reply.sent) return;
    drainRefusedBody(request, reply);
    // RFC 6749 §5.2: JSON, and never cached.
    void reply
      .status(oauth2.status)
      .headers({ ...described.headers, 'cache-control': 'no-store', pragma: 'no-cache' })
      .send({ error: oauth2.error, error_description: descriptionOf(described) });
  }
}
