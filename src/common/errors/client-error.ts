import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { API_SECURITY_HEADERS } from '../http/security-headers';
import { AppLogger } from '../logging/app-logger';
import { AppError } from './app-error';
import { ErrorCode } from './error-code';
import { describeError } from './error-envelope';

/**
 * Errors Node's HTTP parser raises before there is a request to route (Fastify's
 * `clientErrorHandler`): headers, path and query together over 16 KB (431), a
 * request that took too long to arrive (408), or bytes that are not HTTP (400).
 * They get the error envelope too, written to the socket by hand, which is
 * then closed: what follows on it cannot be told apart from the bad request.
 */
export function clientErrorHandler(logger: AppLogger): (error: NodeJS.ErrnoException, socket: Socket) => void {
  return (error, socket) => {
    // A reset connection has nobody to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    logger.pino.debug({ err: error }, 'client error');
    // As Node does: never write into a response already under way on this socket.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const { status, envelope } = describeError(clientErrorOf(error), randomUUID());
      const body = JSON.stringify(envelope);
      const headers = {
        ...API_SECURITY_HEADERS,
        'x-api-version': 'v1',
        'x-request-id': envelope.error.request_id,
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
        connection: 'close',
      };
      const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head}\r\n${body}`);
    }
    socket.destroy();
  };
}

function clientErrorOf(error: NodeJS.ErrnoException): AppError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new AppError(ErrorCode.HEADERS_TOO_LARGE, 'Request headers, path and query are too large (16 KB at most together)');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new AppError(ErrorCode.REQUEST_TIMEOUT, 'The request took too long to arrive');
    default:
      return AppError.badRequest('Malformed HTTP request');
  }
}
