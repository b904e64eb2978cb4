import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../../../common/errors/error-code';
import type { DescribedError } from '../../../common/errors/error-envelope';
import { sendError } from '../../../common/errors/error.filter';
import { AppLogger } from '../../../common/logging/app-logger';

/** OpenAI's error body: what the `openai` SDKs read into their APIError subclasses. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; code: string | null; param: string | null };
}

const INVALID_REQUEST = 'invalid_request_error';

/** The app's error code as OpenAI names it: the error's type and code. */
const OPENAI_ERRORS: Partial<Record<ErrorCode, { type: string; code: string }>> = {
  [ErrorCode.VALIDATION_ERROR]: { type: INVALID_REQUEST, code: INVALID_REQUEST },
  [ErrorCode.BAD_REQUEST]: { type: INVALID_REQUEST, code: INVALID_REQUEST },
  [ErrorCode.UNAUTHORIZED]: { type: INVALID_REQUEST, code: 'invalid_api_key' },
  [ErrorCode.INVALID_CREDENTIALS]: { type: INVALID_REQUEST, code: 'invalid_api_key' },
  [ErrorCode.TOKEN_EXPIRED]: { type: INVALID_REQUEST, code: 'invalid_api_key' },
  [ErrorCode.TOKEN_REVOKED]: { type: INVALID_REQUEST, code: 'invalid_api_key' },
  [ErrorCode.FORBIDDEN]: { type: 'permission_error', code: 'insufficient_permissions' },
  [ErrorCode.ACCOUNT_DISABLED]: { type: 'permission_error', code: 'account_disabled' },
  // The gateway's only lookups that can miss are of the model.
  [ErrorCode.NOT_FOUND]: { type: INVALID_REQUEST, code: 'model_not_found' },
  [ErrorCode.PAYLOAD_TOO_LARGE]: { type: INVALID_REQUEST, code: 'request_too_large' },
  [ErrorCode.UNSUPPORTED_MEDIA_TYPE]: { type: INVALID_REQUEST, code: 'unsupported_media_type' },
  [ErrorCode.UNPROCESSABLE]: { type: INVALID_REQUEST, code: 'unprocessable' },
  [ErrorCode.RATE_LIMITED]: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  [ErrorCode.QUOTA_EXCEEDED]: { type: 'rate_limit_error', code: 'insufficient_quota' },
  [ErrorCode.UPSTREAM_ERROR]: { type: 'api_error', code: 'upstream_error' },
  [ErrorCode.SERVICE_UNAVAILABLE]: { type: 'api_error', code: 'service_unavailable' },
};

/** An error as OpenAI would word it: its status stays the app's (the code table's). */
export function openAiErrorOf(described: DescribedError): OpenAiErrorBody {
  const { code, message, details } = described.envelope.error;
  const mapped = OPENAI_ERRORS[code as ErrorCode] ?? { type: 'api_error', code: 'internal_error' };
  const fields = details.fields as Record<string, string[]> | undefined;
  const text = fields ? `${message}: ${Object.values(fields).flat().join('; ')}` : message;
  const param = fields ? (Object.keys(fields)[0] ?? null) : code === ErrorCode.NOT_FOUND ? 'model' : null;
  return { error: { message: text, type: mapped.type, code: mapped.code, param } };
}

/**
 * The OpenAI-compatible gateway's errors in OpenAI's shape,
 * `{error: {message, type, code, param}}`, with the status the app answers for
 * the same error. Bound to the gateway controller (@UseFilters), so guard
 * refusals (401 invalid_api_key, 403, 429) are converted too; every other
 * route keeps the error envelope. The audit log still records the app's code.
 */
@Catch()
export class OpenAiErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger, openAiErrorOf);
  }
}
