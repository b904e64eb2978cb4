import { AppError } from '../../../common/errors/app-error';
import { cursorTime, decodeCursor, encodeCursor } from './log-cursor';

function refusal(text: string): unknown {
  try {
    decodeCursor(text);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('log cursor', () => {
  it('round-trips a time in microseconds and a seq', () => {
    const cursor = { micros: 1_796_212_800_123_456n, seq: 9_007_199_254_740_993n };
    const text = encodeCursor(cursor);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(text)).toEqual(cursor);
  });

  it('refuses anything else with a validation error naming cursor', () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    for (const text of ['', 'not base64!', b64('12'), b64('a.b'), b64('1.2.3'), b64('1.-2'), b64('253402300800000000.1'), b64('-62135596800000001.1'), b64('1.99999999999999999999'), 'x'.repeat(201)]) {
      const error = refusal(text);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(400);
      expect((error as AppError).details).toEqual({ fields: { cursor: [expect.any(String)] } });
    }
  });

  it('writes the instant with microseconds, before 1970 too', () => {
    expect(cursorTime(1_796_212_800_123_456n)).toBe('2026-12-02T12:00:00.123456Z');
    expect(cursorTime(0n)).toBe('1970-01-01T00:00:00.000000Z');
    expect(cursorTime(-1n)).toBe('1969-12-31T23:59:59.999999Z');
  });
});
