import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import type { ServerSample } from './repositories/server-metrics.repository';

/** Most samples one push may carry. */
export const MAX_BATCH = 1000;
/** How far ahead of the platform's clock a sample's timestamp may be (agents' clocks drift). */
export const MAX_FUTURE_SECONDS = 300;

const SAMPLE_FIELDS = ['timestamp', 'cpu_percent', 'memory_percent', 'disk_percent', 'network_in_bytes', 'network_out_bytes', 'load_1m'] as const;
const ISO_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;
/**
 * Below this (and above 0) a gauge (percent, load: PostgreSQL `real`) is
 * stored as 0: `real` cannot hold magnitudes under ~1e-38 (an underflow error
 * would fail the COPY of every push written with it), and a millionth of a
 * percent means nothing anyway.
 */
export const MIN_GAUGE = 1e-6;
/** PostgreSQL's bigint, and what a JSON number holds exactly. */
const MAX_BYTES = Number.MAX_SAFE_INTEGER;
/** A load average past this is a broken agent, not a machine. */
const MAX_LOAD = 1_000_000;

const KNOWN_FIELDS = new Set<string>(SAMPLE_FIELDS);

/** A JSON number within [min, max] (JSON has no NaN or Infinity; a string, null or anything else fails). */
const isBetween = (value: unknown, min: number, max: number): boolean => typeof value === 'number' && value >= min && value <= max;

/**
 * A gauge as stored: rounded to 6 decimals (so 0 < x < 5e-7 becomes 0; `real`
 * keeps about 7 significant digits, nothing of value is lost).
 */
export const roundGauge = (value: number): number => Math.round(value * 1e6) / 1e6;

/**
 * The time an ISO-8601 text names, or NaN: the shape (ISO_TIMESTAMP), then
 * what Date would quietly roll over (2026-11-31 → Dec 1, 24:00, 23:60) and
 * what PostgreSQL refuses (offsets past ±15:59, years past 9999 or 0000).
 */
function parseTimestamp(text: unknown): Date {
  const invalid = new Date(NaN);
  if (typeof text !== 'string') return invalid;
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return invalid;
  const [, year, month, day, hour, minute, , second, , zone, offsetHours, offsetMinutes] = match;
  const y = Number(year);
  const m = Number(month);
  const d = Number(day);
  if (y < 1 || m < 1 || m > 12 || d < 1 || Number(hour) > 23 || Number(minute) > 59 || Number(second ?? 0) > 59) return invalid;
  // The date part round-trips through a UTC date of that day: 31 November comes back as 1 December.
  const probe = new Date(Date.UTC(2000, m - 1, d));
  probe.setUTCFullYear(y);
  if (probe.getUTCFullYear() !== y || probe.getUTCMonth() !== m - 1 || probe.getUTCDate() !== d) return invalid;
  if (zone !== 'Z' && (Number(offsetHours) > 15 || Number(offsetMinutes) > 59)) return invalid;
  return new Date(text);
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * An agent push's body, `{samples:[…]}` or one sample bare, as rows to store,
 * all or nothing: every problem of every sample is listed (400
 * VALIDATION_ERROR, each field named by its place, `samples[3].cpu_percent`;
 * a bare sample's fields by their names), and one bad sample stores nothing.
 * Timestamps: ISO-8601 with a zone, a real date and time (no 31 November,
 * offsets within ±15:59, as PostgreSQL takes them), at most
 * MAX_FUTURE_SECONDS ahead of `now`, not older than the retention (such rows
 * would be dropped at once); stored as the instant they name. Gauges
 * (percents, load) are rounded to 6 decimals (roundGauge), so nothing a
 * client sends can fail the COPY.
 */
export function parseSamples(body: unknown, now: Date, retentionDays: number): ServerSample[] {
  const fields: Record<string, string[]> = {};
  const fail = (field: string, message: string) => (fields[field] ??= []).push(message);
  let items: unknown[];
  let name: (index: number, field: string) => string;
  if (isObject(body) && 'samples' in body) {
    for (const key of Object.keys(body)) if (key !== 'samples') fail(key, `property ${key} should not exist`);
    if (!Array.isArray(body.samples)) {
      fail('samples', 'samples must be an array of samples');
      items = [];
    } else if (body.samples.length === 0 || body.samples.length > MAX_BATCH) {
      fail('samples', `samples must hold 1 to ${MAX_BATCH} samples`);
      items = [];
    } else {
      items = body.samples;
    }
    name = (index, field) => `samples[${index}]${field ? `.${field}` : ''}`;
  } else if (isObject(body)) {
    items = [body];
    name = (_index, field) => field || 'body';
  } else {
    throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', {
      fields: { body: ['The body must be a sample object or {samples: [...]}'] },
    });
  }
  const newest = now.getTime() + MAX_FUTURE_SECONDS * 1000;
  const oldest = now.getTime() - retentionDays * 86_400_000;
  const samples: ServerSample[] = new Array(items.length);
  // A plain loop with the checks inline: agents push often and in bulk, and this runs for every sample.
  for (let index = 0; index < items.length; index++) {
    const item = items[index];
    if (!isObject(item)) {
      fail(name(index, ''), 'each sample must be an object');
      continue;
    }
    for (const key in item) {
      if (!KNOWN_FIELDS.has(key)) fail(name(index, key), `property ${key} should not exist`);
    }
    // Without a timestamp a sample is of the moment it arrives (a quick push by hand, Swagger UI's example).
    const timestamp = item.timestamp === undefined ? now.toISOString() : item.timestamp;
    const recordedAt = parseTimestamp(timestamp);
    const time = recordedAt.getTime();
    if (Number.isNaN(time)) fail(name(index, 'timestamp'), 'timestamp must be an ISO-8601 date-time with a zone (2025-01-01T12:00:00Z)');
    else if (time > newest) fail(name(index, 'timestamp'), `timestamp must be at most ${MAX_FUTURE_SECONDS} seconds ahead of the server's clock`);
    else if (time < oldest) fail(name(index, 'timestamp'), `timestamp must be within the last ${retentionDays} days (the retention)`);
    const { cpu_percent: cpu, memory_percent: memory, disk_percent: disk, network_in_bytes: bytesIn, network_out_bytes: bytesOut, load_1m: load } = item;
    if (!isBetween(cpu, 0, 100)) fail(name(index, 'cpu_percent'), 'cpu_percent must be a number from 0 to 100');
    if (!isBetween(memory, 0, 100)) fail(name(index, 'memory_percent'), 'memory_percent must be a number from 0 to 100');
    if (!isBetween(disk, 0, 100)) fail(name(index, 'disk_percent'), 'disk_percent must be a number from 0 to 100');
    if (!isBetween(bytesIn, 0, MAX_BYTES) || !Number.isInteger(bytesIn)) fail(name(index, 'network_in_bytes'), `network_in_bytes must be an integer from 0 to ${MAX_BYTES}`);
    if (!isBetween(bytesOut, 0, MAX_BYTES) || !Number.isInteger(bytesOut)) fail(name(index, 'network_out_bytes'), `network_out_bytes must be an integer from 0 to ${MAX_BYTES}`);
    if (!isBetween(load, 0, MAX_LOAD)) fail(name(index, 'load_1m'), `load_1m must be a number from 0 to ${MAX_LOAD}`);
    samples[index] = {
      recordedAt,
      // Gauges are `real`: rounded so none underflows it (1e-50 would fail the whole COPY).
      cpuPercent: roundGauge(cpu as number),
      memoryPercent: roundGauge(memory as number),
      diskPercent: roundGauge(disk as number),
      networkInBytes: bytesIn as number,
      networkOutBytes: bytesOut as number,
      load1m: roundGauge(load as number),
    };
  }
  if (Object.keys(fields).length > 0) throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields });
  return samples;
}
