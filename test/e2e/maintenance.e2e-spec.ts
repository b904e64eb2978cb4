import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { MaintenanceJob, MaintenanceJobs } from '../../src/common/scheduling/maintenance-jobs';
import { monthStart, partitionName } from '../../src/database/partitions';
import { JobRunner, JobRunView } from '../../src/modules/maintenance/job-runner';
import { expectError } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * The maintenance scheduler: built-in jobs partitions.maintain, sessions.cleanup
 * and retention.purge; GET /admin/maintenance/jobs and POST .../:name/run; each
 * run under pg_try_advisory_lock, once per scheduled tick, recorded in job_runs.
 */

const JOBS = '/admin/maintenance/jobs';
const BUILT_IN = ['partitions.maintain', 'retention.purge', 'sessions.cleanup'];
const DAY = 86_400_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const CRON = /^\S+ \S+ \S+ \S+ \S+$/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function internals(app: TestApp) {
  return {
    runner: app.running.app.get(JobRunner),
    jobs: app.running.app.get(MaintenanceJobs),
    db: app.running.app.get(DataSource),
  };
}

function job(app: TestApp, name: string): MaintenanceJob {
  const found = internals(app).jobs.get(name);
  if (!found) throw new Error(`job ${name} is not registered`);
  return found;
}

async function jobRuns(db: DataSource, where: string, params: unknown[] = []): Promise<Array<Record<string, any>>> {
  return db.query(`SELECT * FROM job_runs WHERE ${where} ORDER BY created_at`, params);
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(100);
  }
}

/** Holds pg_advisory_lock for the job on a connection of its own, as another replica would. */
async function holdJobLock(databaseUrl: string, name: string): Promise<() => Promise<void>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query('SELECT pg_advisory_lock(hashtext($1))', [`job:${name}`]);
  return async () => {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`job:${name}`]);
    await client.end();
  };
}

describe('with the scheduler off', () => {
  let app: TestApp;
  let db: DataSource;
  let admin: string;
  let user: { token: string };

  beforeAll(async () => {
    app = await TestApp.start();
    db = internals(app).db;
    admin = await app.adminToken();
    user = await app.registerUser();
  });

  afterAll(async () => {
    await app.stop();
  });

  it('GET lists the built-in jobs with schedule, no last run and no next run', async () => {
    const response = await app.get(JOBS, { token: admin });

    expect(response.status).toBe(200);
    const jobs: Array<Record<string, any>> = response.body.jobs;
    expect(jobs.map((j) => j.name)).toEqual(expect.arrayContaining(BUILT_IN));
    for (const name of BUILT_IN) {
      const listed = jobs.find((j) => j.name === name)!;
      expect(typeof listed.description).toBe('string');
      expect(listed.description.length).toBeGreaterThan(0);
      expect(listed.schedule).toMatch(CRON);
      expect(listed.next_run_at).toBeNull();
      expect(listed.last_run).toBeNull();
    }
    expect(jobs.find((j) => j.name === 'partitions.maintain')!.schedule).toBe('0 * * * *');
    expect(await jobRuns(db, 'true')).toEqual([]);
  });

  it('401 for an anonymous caller', async () => {
    expectError(await app.get(JOBS), 401, 'UNAUTHORIZED');
    expectError(await app.post(`${JOBS}/sessions.cleanup/run`), 401, 'UNAUTHORIZED');
    expect(await jobRuns(db, `job_name = 'sessions.cleanup'`)).toEqual([]);
  });

  it('403 for a user who is not an admin', async () => {
    expectError(await app.get(JOBS, { token: user.token }), 403, 'FORBIDDEN');
    expectError(await app.post(`${JOBS}/sessions.cleanup/run`, undefined, { token: user.token }), 403, 'FORBIDDEN');
    expect(await jobRuns(db, `job_name = 'sessions.cleanup'`)).toEqual([]);
  });

  it('404 NOT_FOUND for an unknown job', async () => {
    expectError(await app.post(`${JOBS}/no.such.job/run`, undefined, { token: admin }), 404, 'NOT_FOUND');
    expect(await jobRuns(db, `job_name = 'no.such.job'`)).toEqual([]);
  });

  it('POST runs partitions.maintain now, records the run and shows it as the last run', async () => {
    const now = new Date();
    const months = [0, 1, 2].map((offset) => monthStart(now, offset));

    const response = await app.post(`${JOBS}/partitions.maintain/run`, undefined, { token: admin });

    expect(response.status).toBe(200);
    const run = response.body;
    expect(run).toMatchObject({ job_name: 'partitions.maintain', trigger: 'manual', status: 'succeeded', scheduled_for: null, error: null });
    expect(run.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.started_at).toMatch(ISO);
    expect(run.finished_at).toMatch(ISO);
    expect(Date.parse(run.finished_at)).toBeGreaterThanOrEqual(Date.parse(run.started_at));
    // Every registered table gets this month and the next two.
    for (const table of ['audit_logs', 'job_runs']) {
      for (const month of months) expect(run.output.created).toContain(partitionName(table, month));
    }
    expect(run.output.dropped).toEqual([]);
    // Its own job_runs row was in job_runs_default until this month's partition existed.
    expect(run.output.moved_rows).toBeGreaterThanOrEqual(1);

    const [row] = await jobRuns(db, 'id = $1', [run.id]);
    expect(row).toMatchObject({ job_name: 'partitions.maintain', trigger: 'manual', status: 'succeeded', error: null, scheduled_for: null });
    expect(row.finished_at).toBeInstanceOf(Date);
    expect(row.output).toEqual(run.output);
    const [{ part }] = await db.query(`SELECT tableoid::regclass::text AS part FROM job_runs WHERE id = $1`, [run.id]);
    expect(part).toBe(partitionName('job_runs', months[0]));

    const listed = (await app.get(JOBS, { token: admin })).body.jobs.find((j: any) => j.name === 'partitions.maintain');
    expect(listed.last_run).toMatchObject({
      id: run.id,
      trigger: 'manual',
      status: 'succeeded',
      started_at: run.started_at,
      finished_at: run.finished_at,
      output: run.output,
      error: null,
    });
    expect(listed.next_run_at).toBeNull();

    // Run again: nothing left to create, and the new run becomes the last one.
    const again = await app.post(`${JOBS}/partitions.maintain/run`, undefined, { token: admin });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'succeeded', output: { created: [], dropped: [] } });
    const relisted = (await app.get(JOBS, { token: admin })).body.jobs.find((j: any) => j.name === 'partitions.maintain');
    expect(relisted.last_run.id).toBe(again.body.id);
  });

  it('POST runs retention.purge now', async () => {
    const response = await app.post(`${JOBS}/retention.purge/run`, undefined, { token: admin });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ job_name: 'retention.purge', trigger: 'manual', status: 'succeeded', error: null });
    expect(response.body.output).toMatchObject({ dropped: [], purged_default_rows: expect.any(Number) });
    const [row] = await jobRuns(db, 'id = $1', [response.body.id]);
    expect(row).toMatchObject({ status: 'succeeded', trigger: 'manual' });
    const listed = (await app.get(JOBS, { token: admin })).body.jobs.find((j: any) => j.name === 'retention.purge');
    expect(listed.last_run).toMatchObject({ id: response.body.id, status: 'succeeded' });
  });

  it('POST runs sessions.cleanup now', async () => {
    const response = await app.post(`${JOBS}/sessions.cleanup/run`, undefined, { token: admin });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ job_name: 'sessions.cleanup', trigger: 'manual', status: 'succeeded', error: null });
    expect(response.body.output).toEqual({ deleted: expect.any(Number) });
    const listed = (await app.get(JOBS, { token: admin })).body.jobs.find((j: any) => j.name === 'sessions.cleanup');
    expect(listed.last_run).toMatchObject({ id: response.body.id, status: 'succeeded', output: response.body.output });
  });

  it('sessions.cleanup deletes sessions revoked or expired more than 30 days ago and keeps the others', async () => {
    const users = await Promise.all([1, 2, 3, 4, 5, 6].map(() => app.registerUser()));
    const sessionOf = async (userId: string): Promise<string[]> =>
      (await db.query(`SELECT id FROM user_sessions WHERE user_id = $1`, [userId])).map((r: { id: string }) => r.id);
    const [revokedLongAgo, expiredLongAgo, revokedRecently, expiredRecently, live, revokedLongAgoExpiredNow] = users;
    const ago = (days: number) => new Date(Date.now() - days * DAY);
    await db.query(`UPDATE user_sessions SET revoked_at = $2, revoked_reason = 'logout' WHERE user_id = $1`, [revokedLongAgo.id, ago(31)]);
    await db.query(`UPDATE user_sessions SET created_at = $2, last_used_at = $2, expires_at = $3 WHERE user_id = $1`, [
      expiredLongAgo.id,
      ago(60),
      ago(31),
    ]);
    await db.query(`UPDATE user_sessions SET revoked_at = $2, revoked_reason = 'logout' WHERE user_id = $1`, [revokedRecently.id, ago(29)]);
    await db.query(`UPDATE user_sessions SET created_at = $2, last_used_at = $2, expires_at = $3 WHERE user_id = $1`, [
      expiredRecently.id,
      ago(40),
      ago(29),
    ]);
    await db.query(`UPDATE user_sessions SET revoked_at = $2, revoked_reason = 'logout', expires_at = $3 WHERE user_id = $1`, [
      revokedLongAgoExpiredNow.id,
      ago(45),
      ago(31),
    ]);
    const [{ count: before }] = await db.query(`SELECT count(*)::int AS count FROM user_sessions`);

    const response = await app.post(`${JOBS}/sessions.cleanup/run`, undefined, { token: admin });

    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'succeeded', output: { deleted: 3 } });
    expect(await sessionOf(revokedLongAgo.id)).toEqual([]);
    expect(await sessionOf(expiredLongAgo.id)).toEqual([]);
    expect(await sessionOf(revokedLongAgoExpiredNow.id)).toEqual([]);
    expect(await sessionOf(revokedRecently.id)).toHaveLength(1);
    expect(await sessionOf(expiredRecently.id)).toHaveLength(1);
    expect(await sessionOf(live.id)).toHaveLength(1);
    const [{ count: after }] = await db.query(`SELECT count(*)::int AS count FROM user_sessions`);
    expect(after).toBe(before - 3);
    // The live user still works.
    expect((await app.get('/auth/sessions', { token: live.token })).status).toBe(200);

    const again = await app.post(`${JOBS}/sessions.cleanup/run`, undefined, { token: admin });
    expect(again.body).toMatchObject({ status: 'succeeded', output: { deleted: 0 } });
  });

  it('409 CONFLICT when the job is running elsewhere, and nothing is recorded for it', async () => {
    const release = await holdJobLock(app.databaseUrl, 'retention.purge');
    let response;
    try {
      const before = await jobRuns(db, `job_name = 'retention.purge'`);
      response = await app.post(`${JOBS}/retention.purge/run`, undefined, { token: admin });
      expect(await jobRuns(db, `job_name = 'retention.purge'`)).toHaveLength(before.length);
    } finally {
      await release();
    }
    expectError(response, 409, 'CONFLICT');

    const after = await app.post(`${JOBS}/retention.purge/run`, undefined, { token: admin });
    expect(after.status).toBe(200);
    expect(after.body.status).toBe('succeeded');
  });

  it('a failing job is recorded as failed with its error, and does not keep the lock', async () => {
    const { jobs, runner } = internals(app);
    let calls = 0;
    jobs.register({
      name: 'test.fail',
      description: 'Always fails',
      schedule: '0 0 1 1 *',
      run: async () => {
        calls += 1;
        throw new Error('boom');
      },
    });

    const run = await runner.run(job(app, 'test.fail'), 'manual');

    expect(calls).toBe(1);
    expect(run).toMatchObject({ job_name: 'test.fail', trigger: 'manual', status: 'failed', error: 'boom', output: null });
    expect(run.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(run.finished_at).toMatch(ISO);
    const rows = await jobRuns(db, `job_name = 'test.fail'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id: run.id, status: 'failed', error: 'boom', output: null, trigger: 'manual' });
    expect(rows[0].finished_at).toBeInstanceOf(Date);

    const listed = (await app.get(JOBS, { token: admin })).body.jobs.find((j: any) => j.name === 'test.fail');
    expect(listed.last_run).toMatchObject({ id: run.id, status: 'failed', error: 'boom' });

    // The lock was released: the job runs (and fails) again instead of being skipped.
    const tick = new Date('2031-01-01T00:00:00Z');
    expect(await runner.run(job(app, 'test.fail'), 'schedule', tick)).toMatchObject({ status: 'failed', error: 'boom' });
    expect(calls).toBe(2);
    expect((await jobRuns(db, `job_name = 'test.fail' AND scheduled_for = $1`, [tick]))[0]).toMatchObject({
      status: 'failed',
      trigger: 'schedule',
      error: 'boom',
    });

    // Through the API as well: the run is reported, not turned into a 500.
    const response = await app.post(`${JOBS}/test.fail/run`, undefined, { token: admin });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'failed', error: 'boom' });
    expect(await jobRuns(db, `job_name = 'test.fail'`)).toHaveLength(3);
  });
});

describe('two app instances on one database', () => {
  let first: TestApp;
  let second: TestApp;
  let db: DataSource;
  const executions: string[] = [];

  beforeAll(async () => {
    first = await TestApp.start();
    second = await TestApp.start({}, { databaseName: first.databaseNameForSharing });
    db = internals(first).db;
    for (const [label, app] of [['first', first], ['second', second]] as const) {
      internals(app).jobs.register({
        name: 'test.slow',
        description: 'Takes a while',
        schedule: '*/5 * * * *',
        run: async () => {
          executions.push(label);
          await sleep(500);
          return { by: label };
        },
      });
    }
  });

  afterAll(async () => {
    await second?.stop({ keepDatabase: true });
    await first?.stop();
  });

  const both = (name: string, trigger: 'schedule' | 'manual', tick: Date | null): Promise<JobRunView[]> =>
    Promise.all([internals(first).runner.run(job(first, name), trigger, tick), internals(second).runner.run(job(second, name), trigger, tick)]);

  it('a job due on both at the same tick runs once; the tick is not run again', async () => {
    for (let minute = 0; minute < 5; minute++) {
      const tick = new Date(Date.UTC(2030, 0, 1, 3, 15 + minute));

      const runs = await both('sessions.cleanup', 'schedule', tick);

      expect(runs.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
      const skipped = runs.find((r) => r.status === 'skipped')!;
      expect(['running_elsewhere', 'already_ran']).toContain(skipped.skipped_reason);
      expect(skipped.id).toBeNull();
      expect(skipped.scheduled_for).toBe(tick.toISOString());
      const succeeded = runs.find((r) => r.status === 'succeeded')!;
      expect(succeeded.scheduled_for).toBe(tick.toISOString());

      // Later, on either instance, the same tick is skipped as already run.
      expect(await internals(first).runner.run(job(first, 'sessions.cleanup'), 'schedule', tick)).toMatchObject({
        status: 'skipped',
        skipped_reason: 'already_ran',
        id: null,
      });
      expect(await internals(second).runner.run(job(second, 'sessions.cleanup'), 'schedule', tick)).toMatchObject({
        status: 'skipped',
        skipped_reason: 'already_ran',
      });

      const rows = await jobRuns(db, `job_name = 'sessions.cleanup' AND scheduled_for = $1`, [tick]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ id: succeeded.id, status: 'succeeded', trigger: 'schedule' });
    }
    expect(await jobRuns(db, `job_name = 'sessions.cleanup' AND trigger = 'schedule'`)).toHaveLength(5);
  });

  it('while one instance runs a job, the other skips it as running elsewhere', async () => {
    executions.length = 0;
    const tick = new Date('2030-02-01T00:05:00Z');

    const runs = await both('test.slow', 'schedule', tick);

    expect(executions).toHaveLength(1);
    expect(runs.map((r) => r.status).sort()).toEqual(['skipped', 'succeeded']);
    expect(runs.find((r) => r.status === 'skipped')!.skipped_reason).toBe('running_elsewhere');
    expect(runs.find((r) => r.status === 'succeeded')!.output).toEqual({ by: executions[0] });
    expect(await jobRuns(db, `job_name = 'test.slow' AND scheduled_for = $1`, [tick])).toHaveLength(1);

    // The next tick runs again.
    const next = new Date('2030-02-01T00:10:00Z');
    const nextRuns = await both('test.slow', 'schedule', next);
    expect(nextRuns.filter((r) => r.status === 'succeeded')).toHaveLength(1);
    expect(executions).toHaveLength(2);
  });

  it('a manual run on one instance gets 409 CONFLICT while the other runs the job', async () => {
    executions.length = 0;
    const admin = await second.adminToken();

    const running = internals(first).runner.run(job(first, 'test.slow'), 'manual');
    await until(async () => (executions.length > 0 ? true : undefined), 5_000);
    const response = await second.post(`${JOBS}/test.slow/run`, undefined, { token: admin });
    const run = await running;

    expectError(response, 409, 'CONFLICT');
    expect(run.status).toBe('succeeded');
    expect(executions).toEqual(['first']);

    // Both instances list the run recorded by the first.
    for (const app of [first, second]) {
      const listed = (await app.get(JOBS, { token: admin })).body.jobs.find((j: any) => j.name === 'test.slow');
      expect(listed.last_run).toMatchObject({ id: run.id, trigger: 'manual', status: 'succeeded', output: { by: 'first' } });
    }
  });
});

describe('with the scheduler on', () => {
  let app: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    app = await TestApp.start({ SCHEDULER_ENABLED: 'true' });
    db = internals(app).db;
  });

  afterAll(async () => {
    await app.stop();
  });

  it('runs partitions.maintain at startup and records it', async () => {
    const row = await until(async () => {
      const rows = await jobRuns(db, `job_name = 'partitions.maintain' AND trigger = 'startup' AND finished_at IS NOT NULL`);
      return rows[0];
    });

    expect(row).toMatchObject({ status: 'succeeded', error: null, scheduled_for: null });
    const month = monthStart(row.created_at as Date);
    expect(row.output.created).toEqual(expect.arrayContaining([partitionName('audit_logs', month), partitionName('job_runs', month)]));
    const [{ exists }] = await db.query(`SELECT to_regclass($1) IS NOT NULL AS exists`, [partitionName('audit_logs', monthStart(new Date(), 2))]);
    expect(exists).toBe(true);
    expect(await jobRuns(db, `trigger = 'startup' AND job_name <> 'partitions.maintain'`)).toEqual([]);
  });

  it('GET shows the next run of each job as a future ISO date, and the startup run as the last run', async () => {
    await until(async () => {
      const rows = await jobRuns(db, `job_name = 'partitions.maintain' AND trigger = 'startup' AND finished_at IS NOT NULL`);
      return rows[0];
    });
    const admin = await app.adminToken();
    const before = Date.now();

    const response = await app.get(JOBS, { token: admin });

    expect(response.status).toBe(200);
    for (const name of BUILT_IN) {
      const listed = response.body.jobs.find((j: any) => j.name === name);
      expect(listed.next_run_at).toMatch(ISO);
      const next = Date.parse(listed.next_run_at);
      expect(next).toBeGreaterThan(before - 1_000);
      expect(next).toBeLessThanOrEqual(before + DAY);
    }
    const maintain = response.body.jobs.find((j: any) => j.name === 'partitions.maintain');
    const next = new Date(maintain.next_run_at);
    expect(next.getUTCMinutes()).toBe(0);
    expect(next.getUTCSeconds()).toBe(0);
    expect(next.getTime()).toBeLessThanOrEqual(before + 3_600_000);
    expect(maintain.last_run).toMatchObject({ trigger: 'startup', status: 'succeeded', scheduled_for: null });
  });
});
