import { NotFoundException } from '@nestjs/common';
import { AppError } from './app-error';
import { ErrorCode } from './error-code';
import { describeError } from './error-envelope';

describe('describeError', () => {
  it('maps AppError codes to their status with details and headers', () => {
    const described = describeError(new AppError(ErrorCode.RATE_LIMITED, 'slow down', { retry_after: 3 }, { 'Retry-After': '3' }), 'r1');
    expect(described.status).toBe(429);
    expect(described.headers).toEqual({ 'Retry-After': '3' });
    expect(described.envelope).toEqual({ error: { code: 'RATE_LIMITED', message: 'slow down', details: { retry_after: 3 }, request_id: 'r1' } });
  });

  it('answers 431 and 408 for the errors Node raises before there is a request', () => {
    expect(describeError(new AppError(ErrorCode.HEADERS_TOO_LARGE, 'x'), 'r').status).toBe(431);
    expect(describeError(new AppError(ErrorCode.REQUEST_TIMEOUT, 'x'), 'r').status).toBe(408);
  });

  it('maps Fastify body errors by their code', () => {
    expect(describeError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), 'r').status).toBe(413);
    expect(describeError(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE' }), 'r').status).toBe(415);
    expect(describeError(Object.assign(new URIError('x'), { code: 'FST_ERR_MAX_PARAM_LENGTH', statusCode: 414 }), 'r').envelope.error.code).toBe('BAD_REQUEST');
  });

  it("answers 400 for text PostgreSQL refuses for its NUL characters (the request's, never the server's fault)", () => {
    for (const code of ['22021', '22P05']) {
      const described = describeError(Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { name: 'QueryFailedError', code }), 'r');
      expect(described.status).toBe(400);
      expect(described.envelope.error.code).toBe('BAD_REQUEST');
      expect(described.unexpected).toBe(false);
    }
  });

  it('maps Nest HTTP exceptions', () => {
    expect(describeError(new NotFoundException(), 'r').envelope.error.code).toBe('NOT_FOUND');
  });

  it('hides unknown errors behind INTERNAL_ERROR and flags them for logging', () => {
    const described = describeError(new Error('relation "users" does not exist'), 'r');
    expect(described.status).toBe(500);
    expect(described.unexpected).toBe(true);
    expect(JSON.stringify(described.envelope)).not.toContain('relation');
  });
});
