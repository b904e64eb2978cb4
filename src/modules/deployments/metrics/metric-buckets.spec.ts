import { AppError } from '../../../common/errors/app-error';
import { bucketsOf, MAX_POINTS, PERIODS, pointsOf, RESOLUTIONS } from './metric-buckets';

describe('metric buckets', () => {
  const now = new Date('2026-12-02T11:07:37.500Z');

  it('aligns on the resolution and ends with the bucket holding now', () => {
    expect(bucketsOf('1h', '1m', now)).toEqual({ start: new Date('2026-12-02T10:08:00Z'), end: new Date('2026-12-02T11:08:00Z'), stepSeconds: 60, points: 60 });
    expect(bucketsOf('24h', '5m', now)).toEqual({ start: new Date('2026-12-01T11:10:00Z'), end: new Date('2026-12-02T11:10:00Z'), stepSeconds: 300, points: 288 });
    expect(bucketsOf('7d', '1h', now)).toMatchObject({ start: new Date('2026-11-25T12:00:00Z'), end: new Date('2026-12-02T12:00:00Z'), points: 168 });
  });

  it('a bucket boundary is the start of a new bucket', () => {
    expect(bucketsOf('1h', '1h', new Date('2026-12-02T11:00:00Z'))).toMatchObject({ start: new Date('2026-12-02T11:00:00Z'), end: new Date('2026-12-02T12:00:00Z'), points: 1 });
  });

  it('refuses combinations over the most points, naming resolution', () => {
    const refused = PERIODS.flatMap((period) => RESOLUTIONS.map((resolution) => [period, resolution] as const)).filter(([p, r]) => pointsOf(p, r) > MAX_POINTS);
    expect(refused).toEqual([['24h', '1m'], ['7d', '1m'], ['7d', '5m']]);
    for (const [period, resolution] of refused) {
      try {
        bucketsOf(period, resolution, now);
        throw new Error('not refused');
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).details).toEqual({ fields: { resolution: [expect.stringContaining('at most 1000')] } });
      }
    }
  });
});
