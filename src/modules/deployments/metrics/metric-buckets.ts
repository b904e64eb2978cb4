import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';

/** The series GET /deployments/:id/metrics can return. */
export const METRIC_NAMES = ['cpu', 'memory', 'disk', 'requests', 'errors', 'network_in', 'network_out'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export const PERIODS = ['1h', '24h', '7d'] as const;
export type MetricPeriod = (typeof PERIODS)[number];
export const RESOLUTIONS = ['1m', '5m', '1h'] as const;
export type MetricResolution = (typeof RESOLUTIONS)[number];

const SECONDS: Record<MetricPeriod | MetricResolution, number> = { '1m': 60, '5m': 300, '1h': 3600, '24h': 86_400, '7d': 604_800 };

/** Most points one series may have (7d at 1m would be 10 080). */
export const MAX_POINTS = 1000;

/** The time axis of a series: `points` buckets of `stepSeconds`, the first starting at `start`, the last ending at `end`. */
export interface Buckets {
  start: Date;
  end: Date;
  stepSeconds: number;
  points: number;
}

export function pointsOf(period: MetricPeriod, resolution: MetricResolution): number {
  return Math.ceil(SECONDS[period] / SECONDS[resolution]);
}

/**
 * The buckets of `period` at `resolution`, aligned on multiples of the
 * resolution since the epoch (so a chart asked twice a minute apart shows the
 * same buckets) and ending with the bucket holding `now` (still filling).
 * Over MAX_POINTS points is a 400 naming `resolution`.
 */
export function bucketsOf(period: MetricPeriod, resolution: MetricResolution, now: Date): Buckets {
  const points = pointsOf(period, resolution);
  if (points > MAX_POINTS) {
    throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', {
      fields: { resolution: [`resolution ${resolution} over ${period} is ${points} points; at most ${MAX_POINTS}: choose a coarser resolution`] },
    });
  }
  const stepMs = SECONDS[resolution] * 1000;
  const end = new Date((Math.floor(now.getTime() / stepMs) + 1) * stepMs);
  return { start: new Date(end.getTime() - points * stepMs), end, stepSeconds: SECONDS[resolution], points };
}

/** A period's length in milliseconds. */
export function periodMs(period: MetricPeriod): number {
  return SECONDS[period] * 1000;
}
