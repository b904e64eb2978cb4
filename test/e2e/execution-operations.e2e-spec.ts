import { Client } from 'pg';
import { expectError } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * How code execution behaves around the sandbox: without bubblewrap (503 and a
 * clear message), with SANDBOX=none (runs, loudly), and the maintenance job that
 * closes runs a dead replica left behind.
 */
describe('Execution operations', () => {
  describe('when bubblewrap is missing', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await TestApp.start({ BWRAP_BIN: '/nonexistent/bwrap' });
    });
    afterAll(() => app.stop());

    it('POST /execute answers 503 SERVICE_UNAVAILABLE saying to install bubblewrap, and stores nothing', async () => {
      const user = await app.registerUser();
      const response = await app.post('/execute', { code: 'print(1)' }, { token: user.token });
      expectError(response, 503, 'SERVICE_UNAVAILABLE');
      expect(response.body.error.message).toMatch(/bubblewrap/i);
      const history = await app.get('/executions', { token: user.token });
      expect(history.body.executions).toEqual([]);
    });

    it('GET /runtimes and /health say the sandbox is unavailable', async () => {
      const runtimes = await app.get('/runtimes');
      expect(runtimes.status).toBe(200);
      expect(runtimes.body.sandbox).toBe('unavailable');
      expect(runtimes.body.sandbox_message).toMatch(/bubblewrap/i);
      const health = await app.get('/health');
      expect(health.status).toBe(200);
      expect(health.body.info.sandbox).toMatchObject({ status: 'up', mechanism: 'unavailable' });
    });
  });

  describe('with SANDBOX=none', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await TestApp.start({ SANDBOX: 'none' });
    });
    afterAll(() => app.stop());

    it('runs code unsandboxed and shows the warning in /health and /runtimes', async () => {
      const user = await app.registerUser();
      const response = await app.post('/execute', { code: 'import os\nprint(os.path.basename(os.getcwd()).startswith("coderunner-run-"))' }, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'success', stdout: 'True\n' });
      const health = await app.get('/health');
      expect(health.body.info.sandbox).toMatchObject({ mechanism: 'none', message: expect.stringMatching(/UNSANDBOXED/) });
      expect((await app.get('/runtimes')).body.sandbox).toBe('none');
    });
  });

  describe('executions.reap', () => {
    let app: TestApp;
    let db: Client;
    beforeAll(async () => {
      app = await TestApp.start();
      db = new Client({ connectionString: app.databaseUrl });
      await db.connect();
    });
    afterAll(async () => {
      await db.end();
      await app.stop();
    });

    it('marks runs a dead replica left queued or running as internal_error, and leaves recent ones', async () => {
      const user = await app.registerUser();
      const insert = (id: string, status: string, age: string) =>
        db.query(
          `INSERT INTO executions (id, user_id, source, language, code, status, timeout_ms, memory_mb, created_at)
           VALUES ($1, $2, 'web', 'python', 'print(1)', $3, 5000, 128, now() - $4::interval)`,
          [id, user.id, status, age],
        );
      await insert('00000000-0000-7000-8000-000000000001', 'running', '2 hours');
      await insert('00000000-0000-7000-8000-000000000002', 'queued', '2 hours');
      await insert('00000000-0000-7000-8000-000000000003', 'running', '1 minute');
      const admin = await app.adminToken();
      const run = await app.post('/admin/maintenance/jobs/executions.reap/run', undefined, { token: admin });
      expect(run.status).toBe(200);
      expect(run.body.output).toEqual({ reaped: 2 });
      const { rows } = await db.query(`SELECT id, status FROM executions WHERE user_id = $1 ORDER BY id`, [user.id]);
      expect(rows.map((r) => r.status)).toEqual(['internal_error', 'internal_error', 'running']);
    });
  });

  describe('when every worker is busy and the queue is full', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await TestApp.start({ EXECUTION_CONCURRENCY: '1', EXECUTION_QUEUE_SIZE: '1' });
    });
    afterAll(() => app.stop());

    it('answers 503 SERVICE_UNAVAILABLE with Retry-After, and takes runs again once there is room', async () => {
      const admin = await app.adminToken();
      const sleeper = { code: 'import time\ntime.sleep(2)', timeout_ms: 10_000 };
      const running = await app.post('/execute?wait=false', sleeper, { token: admin });
      const waiting = await app.post('/execute?wait=false', sleeper, { token: admin });
      expect([running.status, waiting.status]).toEqual([202, 202]);
      const refused = await app.post('/execute', { code: 'print(1)' }, { token: admin });
      expectError(refused, 503, 'SERVICE_UNAVAILABLE');
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.body.error.details).toEqual({ retry_after: 1 });
      await app.post(`/executions/${waiting.body.id}/cancel`, undefined, { token: admin });
      const accepted = await app.post('/execute?wait=false', { code: 'print(1)' }, { token: admin });
      expect(accepted.status).toBe(202);
    });
  });

  describe('graceful shutdown', () => {
    it('stops runs in progress at once: a sync request is answered killed and the app stops without waiting for its limit', async () => {
      const app = await TestApp.start();
      const admin = await app.adminToken();
      const pending = app.post('/execute', { code: 'import time\ntime.sleep(30)', timeout_ms: 30_000 }, { token: admin });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const started = Date.now();
      await app.stop();
      const response = await pending;
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(response.status).toBe(200);
      expect(response.body.status).toBe('killed');
    });
  });
});
