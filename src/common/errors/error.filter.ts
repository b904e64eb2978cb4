import { ArgumentsHost, Catch, ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { drainRefusedBody } from '../http/refused-body';
import { AppLogger } from '../logging/app-logger';
import { DescribedError, describeError } from './error-envelope';

/** Writes every error a route throws in the error envelope. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: AppLogger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendError(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}

export function sendError(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: AppLogger,
  /** The body for the described error: the envelope, or another API's shape (the OpenAI-compatible gateway's). */
  bodyOf: (described: DescribedError) => unknown = (described) => described.envelope,
): void {
  const described = describeError(error, String(request.id));
  // The audit log records which error a failed request got.
  (request as FastifyRequest & { errorCode?: string }).errorCode = described.envelope.error.code;
  if (described.unexpected) {
    logger.pino.error({ err: error, request_id: request.id, method: request.method, url: request.url }, 'unhandled error');
  }
  if (reply.sent) return;
  drainRefusedBody(request, reply);
  void reply.status(described.status).headers(described.headers).send(bodyOf(described));
}
