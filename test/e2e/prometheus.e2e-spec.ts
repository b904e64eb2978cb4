import { readAppConfig } from '../../src/config/app-config';
import { expectError } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * GET /metrics: who may read it (an admin's JWT or METRICS_TOKEN; 401 without
 * or with a wrong credential, 403 for a user or an API key, in the error
 * envelope), and what it answers: Prometheus' text format 0.0.4, checked by the
 * strict parser below (HELP and TYPE lines, metric and label names, label
 * escapes, one block per family, histograms' cumulative buckets with +Inf equal
 * to _count), with every family the README lists, HTTP routes by template and
 * runs counted.
 */

const METRICS_TOKEN = 'test-metrics-token-0123456789abcdef';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** Every family of ours the README lists, and a few of the default process and Node ones. */
const FAMILIES: Record<string, string> = {
  coderunner_http_request_duration_seconds: 'histogram',
  coderunner_executions_total: 'counter',
  coderunner_execution_queue_depth: 'gauge',
  coderunner_execution_running: 'gauge',
  coderunner_execution_warm_sandboxes: 'gauge',
  coderunner_audit_writer_pending_entries: 'gauge',
  coderunner_audit_writer_dropped_entries_total: 'counter',
  coderunner_audit_writer_dead_lettered_entries_total: 'counter',
  coderunner_db_pool_connections: 'gauge',
  coderunner_db_pool_waiting_clients: 'gauge',
  coderunner_db_pool_max_connections: 'gauge',
  coderunner_websocket_connections: 'gauge',
  coderunner_deployments: 'gauge',
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
  nodejs_heap_size_used_bytes: 'gauge',
};

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Family {
  name: string;
  type: string;
  help?: string;
  samples: Sample[];
}

/** A float as the format writes it: Go's ParseFloat syntax (its NaN and ±Inf in any case, as prom-client writes `Nan`). */
function parseValue(text: string, line: string): number {
  if (/^\+?inf(inity)?$/i.test(text)) return Infinity;
  if (/^-inf(inity)?$/i.test(text)) return -Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`bad value "${text}" in: ${line}`);
  return Number(text);
}

/** `{a="x",b="y\"z"}` from position `at` of the line: the labels and where they end. */
function parseLabels(line: string, at: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = at + 1;
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i} in: ${line}`);
  };
  while (line[i] !== '}') {
    const name = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))?.[0] ?? fail('label name expected');
    if (name in labels) fail(`label ${name} twice`);
    i += name.length;
    if (line[i] !== '=' || line[i + 1] !== '"') fail('="… expected');
    i += 2;
    let value = '';
    for (;;) {
      const c = line[i++];
      if (c === undefined) fail('unterminated label value');
      if (c === '"') break;
      if (c === '\\') {
        const next = line[i++];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else fail(`bad escape \\${next}`);
      } else value += c;
    }
    labels[name] = value;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') fail(', or } expected');
  }
  return { labels, end: i + 1 };
}

/** The sample's family: histograms' _bucket, _sum and _count (summaries' _sum and _count) belong to theirs. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const family = families.get(name.slice(0, -suffix.length));
    if (family && (family.type === 'histogram' || (family.type === 'summary' && suffix !== '_bucket'))) return family;
  }
  return families.get(name);
}

/** Prometheus text format 0.0.4, strictly: throws on the first thing promtool would refuse. */
function parsePrometheusText(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the body must end with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: Family | undefined;
  const seen = new Set<string>();
  const open = (name: string): Family => {
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`);
    let family = families.get(name);
    if (family && closed.has(name)) throw new Error(`family ${name} appears in two places`);
    if (!family) {
      family = { name, type: 'untyped', samples: [] };
      families.set(name, family);
    }
    if (current && current !== family) closed.add(current.name);
    current = family;
    return family;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const match = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!match) continue; // a plain comment
      const [, keyword, name, rest = ''] = match;
      const family = open(name);
      if (keyword === 'HELP') {
        if (family.help !== undefined) throw new Error(`second HELP for ${name}`);
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) throw new Error(`bad escape in HELP of ${name}`);
        family.help = rest;
      } else {
        if (!TYPES.has(rest)) throw new Error(`bad TYPE ${rest} for ${name}`);
        if (family.samples.length > 0) throw new Error(`TYPE of ${name} after its samples`);
        if (family.type !== 'untyped') throw new Error(`second TYPE for ${name}`);
        family.type = rest;
      }
      continue;
    }
    const name = /^[^{ ]+/.exec(line)?.[0] ?? '';
    if (!METRIC_NAME.test(name)) throw new Error(`bad metric name in: ${line}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) {
      const parsed = parseLabels(line, name.length);
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    }
    for (const label of Object.keys(labels)) if (!LABEL_NAME.test(label) || label.startsWith('__')) throw new Error(`bad label name ${label}`);
    const fields = rest.split(' ');
    if (fields[0] !== '' || fields.length < 2 || fields.length > 3) throw new Error(`bad sample line: ${line}`);
    const value = parseValue(fields[1], line);
    if (fields[2] !== undefined && !/^-?\d+$/.test(fields[2])) throw new Error(`bad timestamp in: ${line}`);
    const family = familyOf(name, families) ?? open(name);
    if (family !== current) {
      if (closed.has(family.name)) throw new Error(`family ${family.name} appears in two places`);
      open(family.name);
    }
    const series = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (seen.has(series)) throw new Error(`series twice: ${line}`);
    seen.add(series);
    family.samples.push({ name, labels, value });
  }
  for (const family of families.values()) checkFamily(family);
  return families;
}

function checkFamily(family: Family): void {
  const { name, type, samples } = family;
  if (type === 'counter') {
    if (!name.endsWith('_total')) throw new Error(`counter ${name} does not end in _total`);
    for (const sample of samples) if (!(sample.value >= 0)) throw new Error(`counter ${name} is ${sample.value}`);
  }
  if (type !== 'histogram') {
    for (const sample of samples) if (sample.name !== name) throw new Error(`${sample.name} in the ${type} family ${name}`);
    return;
  }
  // One histogram per label set (le aside): ascending buckets, cumulative counts, +Inf = _count, a _sum.
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number; sum?: number }>();
  for (const sample of samples) {
    const { le, ...others } = sample.labels;
    const key = JSON.stringify(Object.entries(others).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name === `${name}_bucket`) {
      if (le === undefined) throw new Error(`${name}_bucket without le`);
      group.buckets.push([parseValue(le, `le="${le}"`), sample.value]);
    } else if (le !== undefined) throw new Error(`le on ${sample.name}`);
    else if (sample.name === `${name}_count`) group.count = sample.value;
    else if (sample.name === `${name}_sum`) group.sum = sample.value;
    else throw new Error(`${sample.name} in the histogram ${name}`);
  }
  for (const [labels, { buckets, count, sum }] of groups) {
    const where = `${name}${labels}`;
    if (count === undefined || sum === undefined) throw new Error(`${where} lacks _count or _sum`);
    if (buckets.length === 0 || buckets[buckets.length - 1][0] !== Infinity) throw new Error(`${where} lacks the +Inf bucket`);
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i][0] > buckets[i - 1][0])) throw new Error(`${where}: buckets not in ascending order`);
      if (buckets[i][1] < buckets[i - 1][1]) throw new Error(`${where}: bucket counts not cumulative`);
    }
    if (buckets[buckets.length - 1][1] !== count) throw new Error(`${where}: +Inf bucket ${buckets[buckets.length - 1][1]} != _count ${count}`);
  }
}

/** The value of one series, or undefined. */
function valueOf(families: Map<string, Family>, family: string, sample: string, labels: Record<string, string>): number | undefined {
  return families.get(family)?.samples.find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('The text-format parser of this spec', () => {
  const histogram = (buckets: string, count = 3) =>
    `# HELP h_seconds h\n# TYPE h_seconds histogram\n${buckets}h_seconds_sum 1.5\nh_seconds_count ${count}\n`;

  it('accepts well-formed families, escapes and special values', () => {
    const families = parsePrometheusText(
      '# HELP a_total A \\\\ b\\n\n# TYPE a_total counter\na_total{x="q\\"\\\\\\n",y=""} 1e3\n# a comment\n' +
        '# TYPE g gauge\ng NaN\ng{l="1"} -Inf 1700000000000\n' +
        histogram('h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="1"} 3\nh_seconds_bucket{le="+Inf"} 3\n'),
    );
    expect(families.get('a_total')!.samples[0]).toEqual({ name: 'a_total', labels: { x: 'q"\\\n', y: '' }, value: 1000 });
    expect(families.get('h_seconds')!.samples).toHaveLength(5);
  });

  it.each([
    ['a bad metric name', '# TYPE 1a gauge\n1a 1\n'],
    ['a bad label name', 'g{1x="a"} 1\n'],
    ['an unterminated label value', 'g{x="a} 1\n'],
    ['a bad escape', 'g{x="\\t"} 1\n'],
    ['a bad value', 'g 1,5\n'],
    ['a missing final newline', 'g 1'],
    ['a second TYPE', '# TYPE g gauge\n# TYPE g gauge\ng 1\n'],
    ['a TYPE after samples', 'g 1\n# TYPE g gauge\n'],
    ['an interleaved family', '# TYPE g gauge\ng 1\n# TYPE f gauge\nf 1\ng{x="1"} 2\n'],
    ['a series twice', 'g 1\ng 2\n'],
    ['a counter without _total', '# TYPE c counter\nc 1\n'],
    ['buckets that are not cumulative', histogram('h_seconds_bucket{le="0.1"} 2\nh_seconds_bucket{le="1"} 1\nh_seconds_bucket{le="+Inf"} 3\n')],
    ['no +Inf bucket', histogram('h_seconds_bucket{le="0.1"} 1\nh_seconds_bucket{le="1"} 3\n')],
    ['+Inf other than _count', histogram('h_seconds_bucket{le="1"} 3\nh_seconds_bucket{le="+Inf"} 3\n', 4)],
  ])('refuses %s', (_what, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});

describe('Prometheus metrics (GET /metrics)', () => {
  let app: TestApp;
  let adminToken: string;
  let user: Awaited<ReturnType<TestApp['registerUser']>>;

  /** GET /metrics at the root (TestApp's paths are relative to /api/v1). */
  const scrape = async (headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const response = await fetch(`${app.url}/metrics`, { headers });
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').includes('json');
    return { status: response.status, headers: response.headers, body: json ? JSON.parse(text) : text };
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const metrics = async (): Promise<Map<string, Family>> => {
    const response = await scrape(bearer(METRICS_TOKEN));
    expect(response.status).toBe(200);
    return parsePrometheusText(response.body as string);
  };

  beforeAll(async () => {
    app = await TestApp.start({ METRICS_TOKEN });
    adminToken = await app.adminToken();
    user = await app.registerUser();
  });

  afterAll(async () => {
    await app?.stop();
  });

  it('answers 401 without credentials and with a wrong token, in the error envelope', async () => {
    expectError(await scrape(), 401, 'UNAUTHORIZED');
    expectError(await scrape(bearer(`${METRICS_TOKEN}x`)), 401, 'UNAUTHORIZED');
    expectError(await scrape(bearer('not-the-token')), 401, 'UNAUTHORIZED');
    expectError(await scrape({ authorization: `Basic ${Buffer.from(`admin:${METRICS_TOKEN}`).toString('base64')}` }), 401, 'UNAUTHORIZED');
  });

  it('answers 403 to a user who is not an admin, and to an API key (even an admin\'s)', async () => {
    expectError(await scrape(bearer(user.token)), 403, 'FORBIDDEN');
    const key = await app.post('/api-keys', { name: 'metrics' }, { token: adminToken });
    expect(key.status).toBe(201);
    expectError(await scrape({ 'x-api-key': key.body.key }), 403, 'FORBIDDEN');
  });

  it('answers the text format to an admin\'s JWT and to METRICS_TOKEN, outside /api/v1', async () => {
    for (const headers of [bearer(adminToken), bearer(METRICS_TOKEN)]) {
      const response = await scrape(headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4(; charset=utf-8)?$/);
      expect(() => parsePrometheusText(response.body as string)).not.toThrow();
    }
    expect((await app.get('/api/v1/metrics', { token: adminToken })).status).toBe(404);
  });

  it('lists every family, each with HELP and TYPE, under Prometheus\' naming conventions', async () => {
    const families = await metrics();
    for (const [name, type] of Object.entries(FAMILIES)) {
      expect({ name, type: families.get(name)?.type, help: Boolean(families.get(name)?.help) }).toEqual({ name, type, help: true });
    }
    for (const family of families.values()) {
      expect(family.name).toMatch(/^(coderunner|process|nodejs)_/);
      expect(family.type).not.toBe('untyped');
    }
    const pool = families.get('coderunner_db_pool_connections')!.samples.map((s) => s.labels.state).sort();
    expect(pool).toEqual(['idle', 'in_use']);
    expect(valueOf(families, 'coderunner_db_pool_max_connections', 'coderunner_db_pool_max_connections', {})).toBe(10);
    const statuses = families.get('coderunner_deployments')!.samples.map((s) => s.labels.status).sort();
    expect(statuses).toEqual(['building', 'failed', 'pending', 'restarting', 'running', 'starting', 'stopped', 'stopping']);
    expect(valueOf(families, 'coderunner_websocket_connections', 'coderunner_websocket_connections', {})).toBe(0);
    expect(valueOf(families, 'coderunner_audit_writer_dropped_entries_total', 'coderunner_audit_writer_dropped_entries_total', {})).toBe(0);
  });

  it('labels HTTP requests by route template and status, never by the raw URL', async () => {
    expectError(await app.get(`/deployments/${UNKNOWN_ID}`, { token: user.token }), 404, 'NOT_FOUND');
    expect((await fetch(`${app.url}/no/such/${UNKNOWN_ID}`)).status).toBe(404);
    const families = await metrics();
    const http = families.get('coderunner_http_request_duration_seconds')!;
    const series = { method: 'GET', route: '/api/v1/deployments/:id', status_code: '404' };
    expect(valueOf(families, http.name, `${http.name}_count`, series)).toBeGreaterThanOrEqual(1);
    expect(valueOf(families, http.name, `${http.name}_count`, { method: 'GET', route: 'unmatched', status_code: '404' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(families, http.name, `${http.name}_count`, { method: 'POST', route: '/api/v1/auth/register', status_code: '201' })).toBeGreaterThanOrEqual(1);
    for (const sample of http.samples) {
      expect(Object.keys(sample.labels).sort()).toEqual(sample.name.endsWith('_bucket') ? ['le', 'method', 'route', 'status_code'] : ['method', 'route', 'status_code']);
      expect(sample.labels.route).not.toContain(UNKNOWN_ID);
    }
  });

  it('counts a finished run by language and status, and reports the queue and warm sandboxes', async () => {
    const before = await metrics();
    const series = { language: 'python', status: 'success' };
    const was = valueOf(before, 'coderunner_executions_total', 'coderunner_executions_total', series) ?? 0;
    const run = await app.post('/execute', { code: 'print(6 * 7)', language: 'python' }, { token: user.token });
    expect({ status: run.status, run: run.body.status }).toEqual({ status: 200, run: 'success' });
    const after = await metrics();
    expect(valueOf(after, 'coderunner_executions_total', 'coderunner_executions_total', series)).toBe(was + 1);
    expect(valueOf(after, 'coderunner_execution_queue_depth', 'coderunner_execution_queue_depth', {})).toBe(0);
    expect(valueOf(after, 'coderunner_execution_running', 'coderunner_execution_running', {})).toBe(0);
    expect(valueOf(after, 'coderunner_execution_warm_sandboxes', 'coderunner_execution_warm_sandboxes', {})).toEqual(expect.any(Number));
  });

  it('keeps each app\'s figures apart when two apps run in one process (replicas, tests)', async () => {
    const other = await TestApp.start({ METRICS_TOKEN });
    try {
      expect((await fetch(`${other.url}/no/such/path/of/the/other/app`)).status).toBe(404);
      const response = await fetch(`${other.url}/metrics`, { headers: bearer(METRICS_TOKEN) });
      const theirs = parsePrometheusText(await response.text());
      const ours = await metrics();
      const count = (families: Map<string, Family>, route: string) =>
        valueOf(families, 'coderunner_http_request_duration_seconds', 'coderunner_http_request_duration_seconds_count', { route });
      // The other app saw none of this app's registrations, and this one none of its own requests.
      expect(count(theirs, '/api/v1/auth/register')).toBeUndefined();
      expect(count(theirs, 'unmatched')).toBe(1);
      expect(count(ours, '/api/v1/auth/register')).toBeGreaterThanOrEqual(1);
      // Both answer the process's own figures.
      expect(theirs.get('process_resident_memory_bytes')?.type).toBe('gauge');
      expect(ours.get('process_resident_memory_bytes')?.type).toBe('gauge');
    } finally {
      await other.stop();
    }
  });

  it('refuses a METRICS_TOKEN shorter than 16 characters at start', () => {
    expect(() => readAppConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 16 characters/);
    expect(readAppConfig({ METRICS_TOKEN }).metricsToken).toBe(METRICS_TOKEN);
    expect(readAppConfig({}).metricsToken).toBeUndefined();
  });
});
