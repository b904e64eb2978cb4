/** What GET /monitor/servers/:id/history can chart. */
export const HISTORY_METRICS = ['cpu', 'memory', 'disk', 'network'] as const;
export type HistoryMetric = (typeof HISTORY_METRICS)[number];

export const TIME_RANGES = ['1h', '6h', '24h', '7d'] as const;
export type TimeRange = (typeof TIME_RANGES)[number];

/**
 * A fixed number of points per range, whatever the number of samples: 1h in
 * 60 one-minute buckets, 6h in 72 of 5 minutes, 24h in 96 of 15 minutes, 7d
 * in 84 of 2 hours.
 */
export const RANGE_AXES: Record<TimeRange, { points: number; stepSeconds: number }> = {
  '1h': { points: 60, stepSeconds: 60 },
  '6h': { points: 72, stepSeconds: 300 },
  '24h': { points: 96, stepSeconds: 900 },
  '7d': { points: 84, stepSeconds: 7200 },
};

/** The time axis of a series: `points` buckets of `stepSeconds`, the first starting at `start`, the last ending at `end`. */
export interface HistoryBuckets {
  start: Date;
  end: Date;
  stepSeconds: number;
  points: number;
}

/**
 * The buckets of a range, aligned on multiples of the step since the epoch
 * (a chart asked twice a minute apart shows the same buckets) and ending with
 * the bucket holding `now` (still filling).
 */
export function historyBuckets(range: TimeRange, now: Date): HistoryBuckets {
  const { points, stepSeconds } = RANGE_AXES[range];
  const stepMs = stepSeconds * 1000;
  const end = new Date((Math.floor(now.getTime() / stepMs) + 1) * stepMs);
  return { start: new Date(end.getTime() - points * stepMs), end, stepSeconds, points };
}
