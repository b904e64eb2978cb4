import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LogFormat, LogLevel } from '../../config/app-config';

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
 * Nest's start-up report: a line per module, controller and route (over a
 * hundred), which buried the lines a newcomer needs. Logged at debug.
 */
const NEST_START_UP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/** Where the log's text goes: stdout, unless a test captures it. */
export interface LogOutput {
  write(text: string): unknown;
}

/**
 * pino behind Nest's LoggerService, so Nest's own messages and ours are the same
 * lines: JSON, or with LOG_FORMAT=pretty one readable line per entry. `pino` is
 * exposed for structured logging with a request id.
 */
export class AppLogger implements LoggerService {
  readonly pino: Logger;
  private readonly output: LogOutput;

  constructor(level: LogLevel, format: LogFormat = 'json', output?: LogOutput) {
    if (format === 'pretty') {
      // Formatted in this thread and written at once (stdout is synchronous on Linux), so
      // nothing is lost at exit and a banner lands exactly between the lines around it.
      const prettify = prettyFactory({
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'service,context',
        messageFormat: '{if context}[{context}] {end}{msg}',
        singleLine: true,
      });
      this.output = output ?? process.stdout;
      const out = this.output;
      this.pino = pino(pinoOptions(level), { write: (line: string) => out.write(prettify(line)) });
    } else {
      const destination = output ?? pino.destination({ sync: false });
      this.output = destination;
      this.pino = pino(pinoOptions(level), destination);
    }
  }

  log(message: unknown, context?: string): void {
    if (context !== undefined && NEST_START_UP_CONTEXTS.has(context)) return this.debug(message, context);
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

  /**
   * Something a person must read once (the generated admin password): a framed
   * block of plain text, at any LOG_LEVEL and in either format, so it is not one
   * JSON line among many. Written through the log's own output, in order.
   */
  banner(lines: string[]): void {
    const rule = '='.repeat(Math.max(...lines.map((line) => line.length)) + 4);
    this.output.write(`\n${rule}\n${lines.map((line) => `  ${line}\n`).join('')}${rule}\n\n`);
  }

  flush(): void {
    this.pino.flush();
  }
}

function pinoOptions(level: LogLevel): pino.LoggerOptions {
  return { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'coderunner' } };
}
