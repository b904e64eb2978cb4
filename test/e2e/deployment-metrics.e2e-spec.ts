import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Deployment metrics end to end: a real app sampled by
 * metrics.sample_deployments (run by hand: the scheduler is off in tests),
 * requests through the proxy between samples, then the time series, the
 * summary and the admin's live sandboxes; bad input, no credentials, someone
 * else's deployment and the wrong role.
 */

jest.setTimeout(120_000);

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const APP = `
const http = require('http');
http.createServer((req, res) => {
  if (req.url === '/boom') { res.statusCode = 500; res.end('boom'); return; }
  // A little work per request, so the app has CPU time to show.
  const until = Date.now() + 20; while (Date.now() < until) {}
  res.end('ok');
}).listen(process.env.PORT);
`;

const JOB = '/admin/maintenance/jobs/metrics.sample_deployments/run';

describe('Deployment metrics', () => {
  let app: TestApp;
  let user: User;
  let other: User;
  let admin: string;
  let id: string;

  beforeAll(async () => {
    app = await TestApp.start({ DEPLOY_HEALTH_TIMEOUT_MS: '5000' });
    admin = await app.adminToken();
    [user, other] = [await app.registerUser(), await app.registerUser()];
    // Enterprise, as in the deployments tests (the free plan allows one running deployment).
    expect((await app.put(`/admin/users/${user.id}`, { level: 'enterprise' }, { token: admin })).status).toBe(200);
    const created = await app.post('/deployments', { name: 'metered', files: [{ path: 'server.js', content: APP }] }, { token: user.token });
    expect(created.status).toBe(201);
    id = created.body.deployment.id;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const { body } = await app.get(`/deployments/${id}`, { token: user.token });
      if (body.deployment.status === 'running') break;
      if (body.deployment.status === 'failed' || Date.now() > deadline) throw new Error(`deployment ${body.deployment.status}: ${body.deployment.error}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function sample(): Promise<number> {
    const run = await app.post(JOB, undefined, { token: admin });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ job_name: 'metrics.sample_deployments', status: 'succeeded' });
    return run.body.output.sampled;
  }

  it('samples the running app: CPU, memory, disk, and the requests between samples', async () => {
    expect(await sample()).toBe(1);
    const answers = [];
    for (const path of ['/', '/a', '/b', '/boom', '/boom']) answers.push((await fetch(`${app.url}/d/${id}${path}`)).status);
    expect(answers).toEqual([200, 200, 200, 500, 500]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await sample()).toBe(1);

    const { rows } = await app.query(
      `SELECT cpu_percent, memory_bytes::float8 AS memory, disk_bytes::float8 AS disk, network_in_bytes::float8 AS net_in, network_out_bytes::float8 AS net_out, requests, errors
         FROM sandbox_metrics WHERE deployment_id = $1 ORDER BY created_at`,
      [id],
    );
    expect(rows).toHaveLength(2);
    expect(rows.map((row) => [row.requests, row.errors])).toEqual([[0, 0], [5, 2]]);
    for (const row of rows) {
      expect(row.cpu_percent).toBeGreaterThanOrEqual(0);
      // The supervisor and the app: two Node processes.
      expect(row.memory).toBeGreaterThan(10 * 1024 * 1024);
      expect(row.disk).toBeGreaterThan(0);
      expect([row.net_in, row.net_out]).toEqual([0, 0]);
    }
    // 60 ms of work over a fraction of a second between the samples.
    expect(rows[1].cpu_percent).toBeGreaterThan(0);
  });

  it('GET /deployments/:id/metrics: a fixed number of buckets, averages and sums, null where nothing was sampled', async () => {
    const response = await app.get(`/deployments/${id}/metrics`, { token: user.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ period: '1h', resolution: '1m' });
    const { metrics } = response.body;
    expect(Object.keys(metrics).sort()).toEqual(['cpu', 'memory', 'requests']);
    for (const series of Object.values(metrics) as Array<Array<{ timestamp: string; value: number | null }>>) {
      expect(series).toHaveLength(60);
      const times = series.map((point) => Date.parse(point.timestamp));
      expect(times.every((time, i) => i === 0 || time - times[i - 1] === 60_000)).toBe(true);
      expect(times[0] % 60_000).toBe(0);
      expect(times[59]).toBeLessThanOrEqual(Date.now());
      expect(times[59] + 60_000).toBeGreaterThan(Date.now() - 5_000);
      // Long before the deployment existed: no samples.
      expect(series[0].value).toBeNull();
    }
    const total = (series: Array<{ value: number | null }>) => series.reduce((sum, point) => sum + (point.value ?? 0), 0);
    expect(total(metrics.requests)).toBe(5);
    expect(Math.max(...metrics.memory.map((point: { value: number | null }) => point.value ?? 0))).toBeGreaterThan(10 * 1024 * 1024);
    expect(Number.isInteger(metrics.memory.find((point: { value: number | null }) => point.value !== null).value)).toBe(true);

    const daily = await app.get(`/deployments/${id}/metrics?metrics=errors,disk&period=24h&resolution=1h`, { token: user.token });
    expect(daily.status).toBe(200);
    expect(Object.keys(daily.body.metrics).sort()).toEqual(['disk', 'errors']);
    expect(daily.body.metrics.errors).toHaveLength(24);
    expect(total(daily.body.metrics.errors)).toBe(2);

    const week = await app.get(`/deployments/${id}/metrics?metrics=requests&metrics=network_in&period=7d&resolution=1h`, { token: user.token });
    expect(week.status).toBe(200);
    expect(week.body.metrics.requests).toHaveLength(168);
    expect(total(week.body.metrics.requests)).toBe(5);
    expect(total(week.body.metrics.network_in)).toBe(0);

    // An admin reads anyone's.
    expect((await app.get(`/deployments/${id}/metrics`, { token: admin })).status).toBe(200);
  });

  it('GET /deployments/:id/metrics refuses bad input, strangers and no credentials', async () => {
    const path = `/deployments/${id}/metrics`;
    expectValidation(await app.get(`${path}?period=24h&resolution=1m`, { token: user.token }), 'resolution');
    expectValidation(await app.get(`${path}?period=7d&resolution=5m`, { token: user.token }), 'resolution');
    expectValidation(await app.get(`${path}?period=2h`, { token: user.token }), 'period');
    expectValidation(await app.get(`${path}?resolution=10s`, { token: user.token }), 'resolution');
    expectValidation(await app.get(`${path}?metrics=cpu,bogus`, { token: user.token }), 'metrics');
    expectValidation(await app.get(`${path}?metrics=`, { token: user.token }), 'metrics');
    expectValidation(await app.get(`${path}?extra=1`, { token: user.token }), 'extra');
    expectValidation(await app.get('/deployments/not-a-uuid/metrics', { token: user.token }), 'id');
    expectError(await app.get(path), 401, 'UNAUTHORIZED');
    expectError(await app.get(path, { token: other.token }), 404, 'NOT_FOUND');
    expectError(await app.get('/deployments/00000000-0000-4000-8000-000000000000/metrics', { token: user.token }), 404, 'NOT_FOUND');
  });

  it('GET /metrics/summary: mine, and everyone\'s for an admin only', async () => {
    const mine = await app.get('/metrics/summary', { token: user.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ total_deployments: 1, active_deployments: 1, total_requests: 5, error_rate: 0.4, period: '24h' });
    expect(Date.now() - Date.parse(mine.body.since)).toBeGreaterThanOrEqual(24 * 3600_000 - 60_000);

    expect((await app.get('/metrics/summary?period=1h', { token: other.token })).body).toMatchObject({ total_deployments: 0, active_deployments: 0, total_requests: 0, error_rate: 0, period: '1h' });
    expectError(await app.get('/metrics/summary?all=true', { token: other.token }), 403, 'FORBIDDEN');
    expect((await app.get('/metrics/summary?all=false', { token: other.token })).status).toBe(200);

    const everyone = await app.get('/metrics/summary?all=true', { token: admin });
    expect(everyone.status).toBe(200);
    expect(everyone.body.total_deployments).toBeGreaterThanOrEqual(1);
    expect(everyone.body.total_requests).toBeGreaterThanOrEqual(5);
    // The admin's own: none.
    expect((await app.get('/metrics/summary', { token: admin })).body.total_deployments).toBe(0);

    expectValidation(await app.get('/metrics/summary?all=yes', { token: user.token }), 'all');
    expectValidation(await app.get('/metrics/summary?period=30d', { token: user.token }), 'period');
    expectError(await app.get('/metrics/summary'), 401, 'UNAUTHORIZED');
  });

  it('GET /admin/sandboxes: the apps running here with their resources, for admins', async () => {
    const response = await app.get('/admin/sandboxes', { token: admin });
    expect(response.status).toBe(200);
    expect(typeof response.body.replica).toBe('string');
    const mine = response.body.sandboxes.find((sandbox: { deployment_id: string }) => sandbox.deployment_id === id);
    expect(mine).toMatchObject({ name: 'metered', owner_id: user.id, version: 1, requests: 5, errors: 2 });
    expect(mine.pid).toBeGreaterThan(1);
    expect(mine.processes).toBeGreaterThanOrEqual(2);
    expect(mine.memory_bytes).toBeGreaterThan(10 * 1024 * 1024);
    expect(mine.disk_bytes).toBeGreaterThan(0);
    expect(typeof mine.cpu_percent).toBe('number');
    expect(mine.cpu_seconds).toBeGreaterThan(0);
    expect(mine.uptime_seconds).toBeGreaterThanOrEqual(0);

    expectError(await app.get('/admin/sandboxes', { token: user.token }), 403, 'FORBIDDEN');
    expectValidation(await app.get('/admin/sandboxes?page=2', { token: admin }), 'page');
    expectError(await app.get('/admin/sandboxes'), 401, 'UNAUTHORIZED');
  });

  it('a stopped app is sampled no more and leaves the live list; the partitions job keeps sandbox_metrics\' months', async () => {
    expect((await app.post(`/deployments/${id}/stop`, undefined, { token: user.token })).status).toBe(200);
    expect(await sample()).toBe(0);
    const { body } = await app.get('/admin/sandboxes', { token: admin });
    expect(body.sandboxes.map((sandbox: { deployment_id: string }) => sandbox.deployment_id)).not.toContain(id);
    expect((await app.get('/metrics/summary', { token: user.token })).body).toMatchObject({ total_deployments: 1, active_deployments: 0, total_requests: 5 });

    expect((await app.post('/admin/maintenance/jobs/partitions.maintain/run', undefined, { token: admin })).body.status).toBe('succeeded');
    const { rows } = await app.query(`SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = 'sandbox_metrics'::regclass`);
    // DEFAULT, this month and the next two.
    expect(rows[0].n).toBeGreaterThanOrEqual(4);
  });
});
