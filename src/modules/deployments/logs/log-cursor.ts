import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';

/**
 * Where a page of logs ended: the last line's time in microseconds since the
 * epoch (PostgreSQL's precision, so the next page starts exactly after it) and
 * its seq (lines of the same instant). Opaque to clients: base64url of
 * `<micros>.<seq>`.
 */
export interface LogCursor {
  micros: bigint;
  seq: bigint;
}

/** Longest cursor a client may send (the DTO's limit too). */
export const MAX_CURSOR_LENGTH = 200;

const CURSOR = /^(-?\d{1,18})\.(\d{1,19})$/;
/** 0001-01-01 and 9999-12-31T23:59:59.999999 UTC, in microseconds since 1970: PostgreSQL's timestamps a cursor can name. */
const MIN_MICROS = -62_135_596_800_000_000n;
const MAX_MICROS = 253_402_300_799_999_999n;
const MAX_SEQ = 9_223_372_036_854_775_807n;

export function encodeCursor(cursor: LogCursor): string {
  return Buffer.from(`${cursor.micros}.${cursor.seq}`).toString('base64url');
}

/** The cursor a client sent; a malformed one is a 400 naming `cursor`. */
export function decodeCursor(text: string): LogCursor {
  const match = text.length <= MAX_CURSOR_LENGTH && /^[A-Za-z0-9_-]+$/.test(text) ? CURSOR.exec(Buffer.from(text, 'base64url').toString('latin1')) : null;
  const cursor = match ? { micros: BigInt(match[1]), seq: BigInt(match[2]) } : undefined;
  if (!cursor || cursor.micros < MIN_MICROS || cursor.micros > MAX_MICROS || cursor.seq > MAX_SEQ) {
    throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', {
      fields: { cursor: ['cursor must be a next_cursor returned by this list'] },
    });
  }
  return cursor;
}

/** The cursor's instant as an ISO-8601 timestamp with microseconds, for a timestamptz parameter. */
export function cursorTime(micros: bigint): string {
  let ms = micros / 1000n;
  let rest = micros % 1000n;
  if (rest < 0n) {
    rest += 1000n;
    ms -= 1n;
  }
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, -1)}${rest.toString().padStart(3, '0')}Z`;
}
