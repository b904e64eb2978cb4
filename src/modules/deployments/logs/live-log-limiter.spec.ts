import { LIVE_LINES_PER_SECOND, LiveLogLimiter } from './live-log-limiter';

describe('LiveLogLimiter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('lets a burst of twice the rate through, holds back the rest, and says how many a second later, once', () => {
    const told: Array<[string, number]> = [];
    const limiter = new LiveLogLimiter((id, count) => told.push([id, count]));
    const now = 1_000_000;
    let admitted = 0;
    for (let i = 0; i < 2 * LIVE_LINES_PER_SECOND + 50; i++) if (limiter.admit('a', now)) admitted++;
    expect(admitted).toBe(2 * LIVE_LINES_PER_SECOND);
    // Another deployment has a budget of its own.
    expect(limiter.admit('b', now)).toBe(true);
    expect(told).toEqual([]);
    jest.advanceTimersByTime(1000);
    expect(told).toEqual([['a', 50]]);
    jest.advanceTimersByTime(5000);
    expect(told).toHaveLength(1);
  });

  it('refills at the rate as time passes', () => {
    const limiter = new LiveLogLimiter(() => undefined);
    const now = 1_000_000;
    while (limiter.admit('a', now));
    expect(limiter.admit('a', now + 10)).toBe(LIVE_LINES_PER_SECOND * 0.01 >= 1);
    let admitted = 0;
    for (let i = 0; i < 2 * LIVE_LINES_PER_SECOND; i++) if (limiter.admit('a', now + 1000)) admitted++;
    expect(admitted).toBeGreaterThanOrEqual(LIVE_LINES_PER_SECOND - 2);
    expect(admitted).toBeLessThanOrEqual(LIVE_LINES_PER_SECOND);
  });

  it('forgets a deployment: its count is not told', () => {
    const told: number[] = [];
    const limiter = new LiveLogLimiter((_id, count) => told.push(count));
    while (limiter.admit('a', 0));
    limiter.admit('a', 0);
    limiter.forget('a');
    jest.advanceTimersByTime(2000);
    expect(told).toEqual([]);
    expect(limiter.admit('a', 0)).toBe(true);
  });
});
