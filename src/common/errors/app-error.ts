import { ErrorCode, HTTP_STATUS_BY_CODE } from './error-code';

export type ErrorDetails = Record<string, unknown>;

/**
 * The one error type handlers throw. The global filter turns it into the error
 * envelope; the status comes from the code, so the two can never disagree.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetails,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }

  get status(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }

  static notFound(what: string): AppError {
    return new AppError(ErrorCode.NOT_FOUND, `${what} not found`);
  }

  static unauthorized(message = 'Authentication required'): AppError {
    return new AppError(ErrorCode.UNAUTHORIZED, message);
  }

  static forbidden(message = 'You are not allowed to do this'): AppError {
    return new AppError(ErrorCode.FORBIDDEN, message);
  }

  static conflict(message: string, details?: ErrorDetails): AppError {
    return new AppError(ErrorCode.CONFLICT, message, details);
  }

  static badRequest(message: string, details?: ErrorDetails): AppError {
    return new AppError(ErrorCode.BAD_REQUEST, message, details);
  }
}
