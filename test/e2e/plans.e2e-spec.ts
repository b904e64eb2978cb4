import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Plans (user levels): GET /user-levels, PUT /admin/plans/:id and
 * GET /plans: four seeded plans with their default limits, public to read,
 * editable by admins only, and an edit takes effect at once.
 *
 * Every test that edits a plan relies on afterEach putting all four back to the
 * seeded defaults, so the tests stay independent of each other and of order.
 */

const MB = 1024 ** 2;
const GB = 1024 ** 3;

/** The seeded plans (migration 1763800000000-Identity), in display order. */
const DEFAULT_PLANS = [
  {
    id: 'free',
    name: 'Free',
    execution_timeout_seconds: 5,
    execution_memory_mb: 128,
    executions_per_day: 100,
    api_executions_per_day: 50,
    max_api_keys: 1,
    max_environments: 1,
    max_concurrent_executions: 1,
    deployments_per_day: 10,
    max_running_deployments: 1,
    deployment_memory_mb: 256,
    storage_bytes: 100 * MB,
    max_upload_bytes: 10 * MB,
    requests_per_minute: 60,
    requests_per_hour: 1000,
    ai_requests_per_day: 50,
    ai_tokens_per_month: 200_000,
  },
  {
    id: 'basic',
    name: 'Basic',
    execution_timeout_seconds: 10,
    execution_memory_mb: 256,
    executions_per_day: 500,
    api_executions_per_day: 500,
    max_api_keys: 3,
    max_environments: 1,
    max_concurrent_executions: 2,
    deployments_per_day: 30,
    max_running_deployments: 3,
    deployment_memory_mb: 512,
    storage_bytes: 1 * GB,
    max_upload_bytes: 25 * MB,
    requests_per_minute: 120,
    requests_per_hour: 3000,
    ai_requests_per_day: 200,
    ai_tokens_per_month: 1_000_000,
  },
  {
    id: 'premium',
    name: 'Premium',
    execution_timeout_seconds: 30,
    execution_memory_mb: 512,
    executions_per_day: 2000,
    api_executions_per_day: 5000,
    max_api_keys: 10,
    max_environments: 3,
    max_concurrent_executions: 4,
    deployments_per_day: 100,
    max_running_deployments: 10,
    deployment_memory_mb: 1024,
    storage_bytes: 10 * GB,
    max_upload_bytes: 100 * MB,
    requests_per_minute: 300,
    requests_per_hour: 10000,
    ai_requests_per_day: 1000,
    ai_tokens_per_month: 5_000_000,
  },
  {
    id: 'enterprise',
    name: 'Enterprise',
    execution_timeout_seconds: 60,
    execution_memory_mb: 1024,
    executions_per_day: null,
    api_executions_per_day: null,
    max_api_keys: null,
    max_environments: 10,
    max_concurrent_executions: null,
    deployments_per_day: null,
    max_running_deployments: 50,
    deployment_memory_mb: 2048,
    storage_bytes: 100 * GB,
    max_upload_bytes: 500 * MB,
    requests_per_minute: null,
    requests_per_hour: null,
    ai_requests_per_day: null as number | null,
    ai_tokens_per_month: null as number | null,
  },
];

type Plan = (typeof DEFAULT_PLANS)[number];

/** The limits that may be null (unlimited); the other four fields may not. */
const NULLABLE_LIMITS = [
  'executions_per_day',
  'api_executions_per_day',
  'max_api_keys',
  'max_environments',
  'max_concurrent_executions',
  'deployments_per_day',
  'max_running_deployments',
  'storage_bytes',
  'max_upload_bytes',
  'requests_per_minute',
  'requests_per_hour',
  'ai_requests_per_day',
  'ai_tokens_per_month',
] as const;

const LIST_PATHS = ['/user-levels', '/plans'];

const defaults = (id: string): Plan => DEFAULT_PLANS.find((plan) => plan.id === id)!;
const withoutId = ({ id: _id, ...rest }: Plan) => rest;

describe('Plans (/api/v1/user-levels, /api/v1/plans, /api/v1/admin/plans/:id)', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
  });
  afterAll(() => app.stop());

  afterEach(async () => {
    for (const plan of DEFAULT_PLANS) {
      const restored = await app.put(`/admin/plans/${plan.id}`, withoutId(plan), { token: admin });
      if (restored.status !== 200) throw new Error(`restoring ${plan.id} failed: ${restored.status} ${JSON.stringify(restored.body)}`);
    }
  });

  async function updatePlan(id: string, body: unknown): Promise<ApiResponse> {
    const response = await app.put(`/admin/plans/${id}`, body, { token: admin });
    if (response.status !== 200) throw new Error(`plan update failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response;
  }

  async function listPlans(path = '/plans'): Promise<Plan[]> {
    const response = await app.get(path);
    expect(response.status).toBe(200);
    return response.body.plans;
  }

  async function planOf(id: string, path = '/plans'): Promise<Plan | undefined> {
    return (await listPlans(path)).find((plan) => plan.id === id);
  }

  describe('GET /user-levels and GET /plans', () => {
    it.each(LIST_PATHS)('GET %s lists the four seeded plans with their default limits, free to enterprise, without credentials', async (path) => {
      const response = await app.get(path);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.headers.get('x-api-version')).toBe('v1');
      expect(response.body).toEqual({ plans: DEFAULT_PLANS });
      // Exactly these fields: no internal columns such as sort_order or timestamps.
      for (const plan of response.body.plans) expect(Object.keys(plan).sort()).toEqual(Object.keys(DEFAULT_PLANS[0]).sort());
    });

    it('answers the same data on both paths, in the same order every time', async () => {
      const first = await Promise.all(LIST_PATHS.map((path) => listPlans(path)));
      const second = await Promise.all(LIST_PATHS.map((path) => listPlans(path)));
      expect(first[0]).toEqual(first[1]);
      expect(second[0]).toEqual(first[0]);
      expect(second[1]).toEqual(first[0]);
      expect(first[0].map((plan) => plan.id)).toEqual(['free', 'basic', 'premium', 'enterprise']);
    });

    it.each(LIST_PATHS)('GET %s ignores credentials: a user token, an API key, even an invalid token', async (path) => {
      const user = await app.registerUser();
      const key = await app.post('/api-keys', { name: 'reader', scopes: ['execute'] }, { token: user.token });
      expect(key.status).toBe(201);
      for (const options of [{ token: user.token }, { token: admin }, { apiKey: key.body.key }, { token: 'not-a-jwt' }]) {
        const response = await app.get(path, options);
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ plans: DEFAULT_PLANS });
      }
    });
  });

  describe('PUT /admin/plans/:id', () => {
    it('changes only the given fields and answers the whole plan; both lists show it at once, order unchanged', async () => {
      const changes = { name: 'Basic Plus', execution_timeout_seconds: 15, storage_bytes: 2 * GB, requests_per_hour: 4000 };
      const response = await updatePlan('basic', changes);
      const expected = { ...defaults('basic'), ...changes };
      expect(response.body).toEqual(expected);

      for (const path of LIST_PATHS) {
        const plans = await listPlans(path);
        expect(plans.map((plan) => plan.id)).toEqual(['free', 'basic', 'premium', 'enterprise']);
        expect(plans[1]).toEqual(expected);
        expect([plans[0], plans[2], plans[3]]).toEqual([defaults('free'), defaults('premium'), defaults('enterprise')]);
      }
    });

    it('sets the AI limits (requests per day, tokens per month), null for unlimited', async () => {
      const changes = { ai_requests_per_day: 7, ai_tokens_per_month: 12_345 };
      const response = await updatePlan('free', changes);
      expect(response.body).toEqual({ ...defaults('free'), ...changes });
      expect(await planOf('free')).toEqual({ ...defaults('free'), ...changes });
      const unlimited = await updatePlan('free', { ai_requests_per_day: null, ai_tokens_per_month: 0 });
      expect(unlimited.body).toEqual({ ...defaults('free'), ai_requests_per_day: null, ai_tokens_per_month: 0 });
      for (const body of [{ ai_requests_per_day: -1 }, { ai_tokens_per_month: 1.5 }, { ai_requests_per_day: 'many' }]) {
        const refused = await app.put('/admin/plans/free', body, { token: admin });
        expect(refused.status).toBe(400);
      }
      const user = await app.registerUser();
      expect((await app.put('/admin/plans/free', changes, { token: user.token })).status).toBe(403);
    });

    it('keeps every field when the body is empty', async () => {
      const response = await updatePlan('premium', {});
      expect(response.body).toEqual(defaults('premium'));
      expect(await listPlans()).toEqual(DEFAULT_PLANS);
    });

    it('sets a limit to unlimited with null and back to a number', async () => {
      const unlimited = Object.fromEntries(NULLABLE_LIMITS.map((field) => [field, null]));
      const response = await updatePlan('premium', unlimited);
      expect(response.body).toEqual({ ...defaults('premium'), ...unlimited });
      expect(await planOf('premium')).toEqual({ ...defaults('premium'), ...unlimited });

      const limited = await updatePlan('enterprise', { executions_per_day: 9000, requests_per_minute: 900 });
      expect(limited.body).toEqual({ ...defaults('enterprise'), executions_per_day: 9000, requests_per_minute: 900 });
      expect(await planOf('enterprise', '/user-levels')).toEqual(limited.body);
    });

    it('accepts the boundaries: 0 for a limit, the largest values, the shortest and longest name', async () => {
      const low = { name: 'F', execution_timeout_seconds: 1, execution_memory_mb: 16, max_api_keys: 0, storage_bytes: 0 };
      expect((await updatePlan('free', low)).body).toEqual({ ...defaults('free'), ...low });
      expect(await planOf('free')).toEqual({ ...defaults('free'), ...low });

      const high = {
        name: 'N'.repeat(50),
        execution_timeout_seconds: 3600,
        execution_memory_mb: 65536,
        executions_per_day: 2 ** 31 - 1,
        storage_bytes: Number.MAX_SAFE_INTEGER,
        max_upload_bytes: Number.MAX_SAFE_INTEGER,
      };
      expect((await updatePlan('free', high)).body).toEqual({ ...defaults('free'), ...low, ...high });
      // The bigint columns come back as exact JSON numbers, not strings.
      const listed = await planOf('free');
      expect(listed).toEqual({ ...defaults('free'), ...low, ...high });
      expect(listed!.storage_bytes).toBe(Number.MAX_SAFE_INTEGER);
    });

    it('takes effect at once: a lower API key limit makes POST /api-keys answer 403 FORBIDDEN for a free user', async () => {
      const user = await app.registerUser();
      await updatePlan('free', { max_api_keys: 0 });

      const refused = await app.post('/api-keys', { name: 'first' }, { token: user.token });
      expectError(refused, 403, 'FORBIDDEN');
      expect(refused.body.error.details).toMatchObject({ limit: 0, level: 'free' });
      expect((await app.get('/api-keys', { token: user.token })).body.pagination.total).toBe(0);

      // Another plan is untouched: a basic user still gets a key.
      const basic = await app.registerUser();
      expect((await app.put(`/admin/users/${basic.id}`, { level: 'basic' }, { token: admin })).status).toBe(200);
      expect((await app.post('/api-keys', { name: 'basic key' }, { token: basic.token })).status).toBe(201);

      // Back to one: the free user gets exactly one.
      await updatePlan('free', { max_api_keys: 1 });
      expect((await app.post('/api-keys', { name: 'first' }, { token: user.token })).status).toBe(201);
      expectError(await app.post('/api-keys', { name: 'second' }, { token: user.token }), 403, 'FORBIDDEN');
    });

    it('takes effect at once: a null API key limit lets a free user create more keys than the default one', async () => {
      const user = await app.registerUser();
      await updatePlan('free', { max_api_keys: null });
      for (let i = 0; i < 4; i++) expect((await app.post('/api-keys', { name: `key-${i}` }, { token: user.token })).status).toBe(201);
      expect((await app.get('/api-keys', { token: user.token })).body.pagination.total).toBe(4);
    });

    it('takes effect at once on another replica too (the cluster bus drops its cached plan)', async () => {
      const replica = await TestApp.start({}, { databaseName: app.databaseNameForSharing });
      try {
        const user = await app.registerUser();
        // The replica reads (and caches) the free plan: one key allowed.
        expect((await replica.post('/api-keys', { name: 'first' }, { token: user.token })).status).toBe(201);
        expectError(await replica.post('/api-keys', { name: 'second' }, { token: user.token }), 403, 'FORBIDDEN');
        await updatePlan('free', { max_api_keys: 2 });
        // LISTEN/NOTIFY takes milliseconds; the cache's own TTL is 30 s.
        let status = 0;
        for (let tries = 0; tries < 40 && status !== 201; tries++) {
          status = (await replica.post('/api-keys', { name: 'second' }, { token: user.token })).status;
          if (status !== 201) await new Promise((r) => setTimeout(r, 50));
        }
        expect(status).toBe(201);
      } finally {
        await replica.stop({ keepDatabase: true });
      }
    });

    it('applies every one of several concurrent edits of the same plan', async () => {
      const fields = ['executions_per_day', 'api_executions_per_day', 'max_api_keys', 'max_environments', 'deployments_per_day', 'max_running_deployments', 'requests_per_minute', 'requests_per_hour'] as const;
      for (let round = 0; round < 3; round++) {
        const values = fields.map((_, i) => 7000 + round * 100 + i);
        const responses = await Promise.all(fields.map((field, i) => app.put('/admin/plans/basic', { [field]: values[i] }, { token: admin })));
        expect(responses.map((r) => r.status)).toEqual(fields.map(() => 200));
        const plan = await planOf('basic');
        expect(fields.map((field) => plan![field])).toEqual(values);
      }
    });

    // Every row has the same three elements (a missing trailing one would make jest pass a `done` callback).
    it.each([
      ['a negative limit', { max_api_keys: -1 }, 'max_api_keys'],
      ['a limit as a string', { executions_per_day: '100' }, 'executions_per_day'],
      ['a fractional limit', { deployments_per_day: 1.5 }, 'deployments_per_day'],
      ['a boolean limit', { requests_per_minute: true }, 'requests_per_minute'],
      ['an object as a limit', { max_environments: { value: 1 } }, 'max_environments'],
      ['a limit beyond a 32-bit integer', { requests_per_hour: 2 ** 31 }, 'requests_per_hour'],
      ['a byte limit beyond a safe integer', { storage_bytes: 2 ** 53 }, 'storage_bytes'],
      ['a negative byte limit', { max_upload_bytes: -1 }, 'max_upload_bytes'],
      ['a timeout of 0', { execution_timeout_seconds: 0 }, 'execution_timeout_seconds'],
      ['a timeout above an hour', { execution_timeout_seconds: 3601 }, 'execution_timeout_seconds'],
      ['a timeout as a string', { execution_timeout_seconds: '10' }, 'execution_timeout_seconds'],
      ['an unlimited (null) timeout', { execution_timeout_seconds: null }, 'execution_timeout_seconds'],
      ['memory below 16 MB', { execution_memory_mb: 15 }, 'execution_memory_mb'],
      ['memory above 64 GB', { execution_memory_mb: 65537 }, 'execution_memory_mb'],
      ['app memory below 16 MB', { deployment_memory_mb: 15 }, 'deployment_memory_mb'],
      ['app memory unlimited', { deployment_memory_mb: null }, 'deployment_memory_mb'],
      ['unlimited (null) memory', { execution_memory_mb: null }, 'execution_memory_mb'],
      ['an empty name', { name: '' }, 'name'],
      ['a name of 51 characters', { name: 'x'.repeat(51) }, 'name'],
      ['a null name', { name: null }, 'name'],
      ['a numeric name', { name: 5 }, 'name'],
      ['an unknown field', { max_users: 5 }, 'max_users'],
      ['an id in the body', { id: 'gold' }, 'id'],
      ['an internal column', { sort_order: 0 }, 'sort_order'],
    ])('answers 400 VALIDATION_ERROR for %s, naming the field and changing nothing', async (_case, body, field) => {
      expectValidation(await app.put('/admin/plans/free', body, { token: admin }), field);
      expect(await listPlans()).toEqual(DEFAULT_PLANS);
    });

    it('lists every failing field at once, and applies none of the valid ones beside them', async () => {
      const response = await app.put(
        '/admin/plans/basic',
        { max_api_keys: -1, requests_per_hour: 'lots', execution_memory_mb: 8, extra: true, name: 'Fine', executions_per_day: 5 },
        { token: admin },
      );
      expectValidation(response, 'max_api_keys', 'requests_per_hour', 'execution_memory_mb', 'extra');
      expect(Object.keys(response.body.error.details.fields)).not.toContain('name');
      expect(Object.keys(response.body.error.details.fields)).not.toContain('executions_per_day');
      expect(await planOf('basic')).toEqual(defaults('basic'));
    });

    it('answers 400 for a body that is not a JSON object', async () => {
      expectError(await app.put('/admin/plans/free', '{"max_api_keys": ', { token: admin }), 400, 'BAD_REQUEST');
      expectError(await app.put('/admin/plans/free', '[1, 2]', { token: admin }), 400, 'VALIDATION_ERROR');
      expectError(await app.put('/admin/plans/free', '"free"', { token: admin }), 400, 'VALIDATION_ERROR');
      expect(await listPlans()).toEqual(DEFAULT_PLANS);
    });

    it.each([
      ['an unknown id', 'gold'],
      ['an id in the wrong case', 'FREE'],
      ['an id longer than any plan id', 'x'.repeat(100)],
      ['an id with a NUL byte', 'fr%00ee'],
      ['an id with non-ASCII characters', encodeURIComponent('frée')],
    ])('answers 404 NOT_FOUND for %s', async (_case, id) => {
      expectError(await app.put(`/admin/plans/${id}`, { max_api_keys: 2 }, { token: admin }), 404, 'NOT_FOUND');
      expect(await listPlans()).toEqual(DEFAULT_PLANS);
    });

    it('answers 401 UNAUTHORIZED without credentials or with an invalid token', async () => {
      expectError(await app.put('/admin/plans/free', { max_api_keys: 5 }), 401, 'UNAUTHORIZED');
      expectError(await app.put('/admin/plans/free', { max_api_keys: 5 }, { token: 'not-a-jwt' }), 401, 'UNAUTHORIZED');
      expectError(await app.put('/admin/plans/free', { max_api_keys: 5 }, { apiKey: `sk-${'A'.repeat(48)}` }), 401, 'UNAUTHORIZED');
      // Before looking at the plan id or the body.
      expectError(await app.put('/admin/plans/gold', { max_api_keys: -1 }), 401, 'UNAUTHORIZED');
      expect(await listPlans()).toEqual(DEFAULT_PLANS);
    });

    it('answers 403 FORBIDDEN to a normal user, whatever the plan id or body', async () => {
      const user = await app.registerUser();
      expectError(await app.put('/admin/plans/free', { max_api_keys: 5 }, { token: user.token }), 403, 'FORBIDDEN');
      expectError(await app.put('/admin/plans/gold', { max_api_keys: 5 }, { token: user.token }), 403, 'FORBIDDEN');
      expectError(await app.put('/admin/plans/free', { max_api_keys: -1 }, { token: user.token }), 403, 'FORBIDDEN');
      expect(await listPlans()).toEqual(DEFAULT_PLANS);
    });

    it("answers 403 FORBIDDEN to API keys with scope '*', a user's and even an admin's own", async () => {
      const user = await app.registerUser();
      const userKey = await app.post('/api-keys', { name: 'all', scopes: ['*'] }, { token: user.token });
      const adminKey = await app.post('/api-keys', { name: 'admin all', scopes: ['*'] }, { token: admin });
      expect([userKey.status, adminKey.status]).toEqual([201, 201]);

      expectError(await app.put('/admin/plans/free', { max_api_keys: 5 }, { apiKey: userKey.body.key }), 403, 'FORBIDDEN');
      expectError(await app.put('/admin/plans/free', { max_api_keys: 5 }, { apiKey: adminKey.body.key }), 403, 'FORBIDDEN');
      const viaBearer = await app.put('/admin/plans/free', { max_api_keys: 5 }, { headers: { authorization: `Bearer ${adminKey.body.key}` } });
      expectError(viaBearer, 403, 'FORBIDDEN');
      expect(await listPlans()).toEqual(DEFAULT_PLANS);
    });
  });
});
