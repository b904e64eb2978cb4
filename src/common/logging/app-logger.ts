import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import type { LogLevel } from '../../config/app-config';

/** Fields whose values never reach a log line, wherever they are nested. */
const REDACTED = [
  'password', 'new_password', 'current_password', 'token', 'access_token', 'refresh_token',
  'api_key', 'key', 'secret', 'authorization', 'cookie', 'x-api-key',
];
const REDACT_PATHS = [
  ...REDACTED,
  ...REDACTED.map((f) => `*.${f}`),
  ...REDACTED.map((f) => `*.*.${f}`),
  'req.headers.authorization',
  'req.headers["x-api-key"]',
];

/**
 * pino behind Nest's LoggerService, so Nest's own messages and ours are the same
 * JSON lines. `pino` is exposed for structured logging with a request id.
 */
export class AppLogger implements LoggerService {
  readonly pino: Logger;

  constructor(level: LogLevel, destination?: pino.DestinationStream) {
    this.pino = pino(
      { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'coderunner' } },
      destination ?? pino.destination({ sync: false }),
    );
  }

  log(message: unknown, context?: string): void {
    this.pino.info({ context }, String(message));
  }

  error(message: unknown, trace?: string, context?: string): void {
    this.pino.error({ context, trace }, String(message));
  }

  warn(message: unknown, context?: string): void {
    this.pino.warn({ context }, String(message));
  }

  debug(message: unknown, context?: string): void {
    this.pino.debug({ context }, String(message));
  }

  verbose(message: unknown, context?: string): void {
    this.pino.trace({ context }, String(message));
  }

  flush(): void {
    this.pino.flush();
  }
}
