import { isExpired, monthStart, partitionMonth, partitionName } from './partitions';

const utc = (iso: string) => new Date(iso);
const DAY = 86_400_000;

describe('monthStart', () => {
  it('is the first instant of the month holding the date, in UTC', () => {
    expect(monthStart(utc('2026-03-17T13:45:12.345Z')).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(monthStart(utc('2026-03-01T00:00:00.000Z')).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(monthStart(utc('2026-03-31T23:59:59.999Z')).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('uses the UTC month, not the local one, for instants near midnight', () => {
    // 2026-04-01T00:30+02:00 is still March in UTC.
    expect(monthStart(utc('2026-04-01T00:30:00+02:00')).toISOString()).toBe('2026-03-01T00:00:00.000Z');
    // 2026-03-31T23:30-05:00 is already April in UTC.
    expect(monthStart(utc('2026-03-31T23:30:00-05:00')).toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });

  it('adds positive offsets, crossing into the next year after December', () => {
    const december = utc('2026-12-15T10:00:00Z');
    expect(monthStart(december, 0).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(monthStart(december, 1).toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(monthStart(december, 2).toISOString()).toBe('2027-02-01T00:00:00.000Z');
    expect(monthStart(december, 13).toISOString()).toBe('2028-01-01T00:00:00.000Z');
    expect(monthStart(utc('2026-11-30T23:59:59Z'), 2).toISOString()).toBe('2027-01-01T00:00:00.000Z');
  });

  it('handles the last days of long months without skipping a month', () => {
    // A naive setMonth(+1) on Jan 31 lands in March.
    expect(monthStart(utc('2027-01-31T12:00:00Z'), 1).toISOString()).toBe('2027-02-01T00:00:00.000Z');
    expect(monthStart(utc('2028-01-31T12:00:00Z'), 1).toISOString()).toBe('2028-02-01T00:00:00.000Z');
    expect(monthStart(utc('2027-08-31T12:00:00Z'), 1).toISOString()).toBe('2027-09-01T00:00:00.000Z');
  });

  it('subtracts negative offsets, crossing back into the previous year', () => {
    expect(monthStart(utc('2027-01-10T00:00:00Z'), -1).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(monthStart(utc('2027-02-10T00:00:00Z'), -14).toISOString()).toBe('2025-12-01T00:00:00.000Z');
  });

  it('does not modify the date it is given', () => {
    const date = utc('2026-12-15T10:00:00Z');
    monthStart(date, 3);
    expect(date.toISOString()).toBe('2026-12-15T10:00:00.000Z');
  });
});

describe('partitionName', () => {
  it('is <table>_pYYYYMM with a zero-padded month', () => {
    expect(partitionName('audit_logs', utc('2026-01-01T00:00:00Z'))).toBe('audit_logs_p202601');
    expect(partitionName('audit_logs', utc('2026-09-01T00:00:00Z'))).toBe('audit_logs_p202609');
    expect(partitionName('job_runs', utc('2026-10-01T00:00:00Z'))).toBe('job_runs_p202610');
    expect(partitionName('job_runs', utc('2026-12-01T00:00:00Z'))).toBe('job_runs_p202612');
  });

  it('names the UTC month of the date', () => {
    expect(partitionName('audit_logs', utc('2027-01-01T00:30:00+01:00'))).toBe('audit_logs_p202612');
    expect(partitionName('audit_logs', monthStart(utc('2026-12-15T00:00:00Z'), 1))).toBe('audit_logs_p202701');
  });
});

describe('partitionMonth', () => {
  it('reads the month back from a partition name', () => {
    expect(partitionMonth('audit_logs_p202612')?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    expect(partitionMonth('audit_logs_p202701')?.toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(partitionMonth('job_runs_p203009')?.toISOString()).toBe('2030-09-01T00:00:00.000Z');
  });

  it('is the inverse of partitionName', () => {
    for (let offset = -30; offset <= 30; offset++) {
      const month = monthStart(utc('2026-11-23T01:00:00Z'), offset);
      expect(partitionMonth(partitionName('audit_logs', month))?.toISOString()).toBe(month.toISOString());
    }
  });

  it('is undefined for the DEFAULT partition and other names', () => {
    expect(partitionMonth('audit_logs_default')).toBeUndefined();
    expect(partitionMonth('audit_logs')).toBeUndefined();
    expect(partitionMonth('audit_logs_p2026')).toBeUndefined();
    expect(partitionMonth('audit_logs_p2026123')).toBeUndefined();
    expect(partitionMonth('audit_logs_p202612_old')).toBeUndefined();
  });
});

describe('isExpired', () => {
  const december = utc('2026-12-01T00:00:00Z');
  const endOfDecember = utc('2027-01-01T00:00:00Z').getTime();

  it('is true only once the whole month is older than the retention', () => {
    // The month ends 2027-01-01; with 30 days retention it expires at 2027-01-31T00:00Z.
    const expiresAt = endOfDecember + 30 * DAY;
    expect(isExpired(december, new Date(expiresAt - 1), 30)).toBe(false);
    expect(isExpired(december, new Date(expiresAt), 30)).toBe(true);
    expect(isExpired(december, new Date(expiresAt + 1), 30)).toBe(true);
  });

  it('keeps a month that is only partly past retention', () => {
    // Dec 20 2027 minus 365 days is Dec 20 2026: the first days of December are past
    // retention, the rest is not, so the partition stays.
    expect(isExpired(december, utc('2027-12-20T00:00:00Z'), 365)).toBe(false);
    expect(isExpired(december, utc('2028-01-15T00:00:00Z'), 365)).toBe(true);
  });

  it('never expires the current or a future month', () => {
    expect(isExpired(december, utc('2026-12-15T00:00:00Z'), 1)).toBe(false);
    expect(isExpired(utc('2027-02-01T00:00:00Z'), utc('2026-12-15T00:00:00Z'), 1)).toBe(false);
  });

  it('uses the retention it is given', () => {
    const now = utc('2027-03-15T00:00:00Z');
    expect(isExpired(december, now, 30)).toBe(true);
    expect(isExpired(december, now, 90)).toBe(false);
  });
});
