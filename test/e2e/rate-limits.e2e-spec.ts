import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { canConnect } from '../support/net';
import { expectError } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Rate limits: per caller and plan, fixed minute and hour windows,
 * X-RateLimit-* headers, 429 RATE_LIMITED with Retry-After; memory store per
 * instance, Redis store shared by instances; separate from the login lockout.
 *
 * Every anonymous request comes from 127.0.0.1, so each scenario that counts
 * anonymous requests gets its own app (a fresh memory store) or Redis prefix.
 */

const REDIS_PORT = 6379;
const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`;
const LIMITED = { RATE_LIMIT_ENABLED: 'true' };
/** Anonymous limits high enough that registering and logging in never hit them. */
const ROOMY_ANONYMOUS = { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '10000', RATE_LIMIT_ANONYMOUS_PER_HOUR: '100000' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Windows are fixed and aligned to the clock: when less than `neededMs` is left
 * in the current minute (hours end on minutes too), wait for the next one so a
 * window reset cannot land in the middle of a scenario.
 */
async function inOneWindow(neededMs = 5_000): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < neededMs) await sleep(left + 200);
}


function header(response: ApiResponse, name: string): string | null {
  return response.headers.get(name);
}

/** The three headers of a limited response, checked against limit and remaining. */
function expectLimitHeaders(response: ApiResponse, limit: number, remaining: number, windowSeconds = 60): void {
  expect(header(response, 'x-ratelimit-limit')).toBe(String(limit));
  expect(header(response, 'x-ratelimit-remaining')).toBe(String(remaining));
  const reset = Number(header(response, 'x-ratelimit-reset'));
  expect(Number.isInteger(reset)).toBe(true);
  const nowSeconds = Date.now() / 1000;
  expect(reset).toBeGreaterThan(nowSeconds - 1);
  expect(reset).toBeLessThanOrEqual(Math.ceil(nowSeconds) + windowSeconds);
}

/** 429 RATE_LIMITED from the limiter: Retry-After equal to details.retry_after, within the window. */
function expectRateLimited(response: ApiResponse, window: 'minute' | 'hour', limit: number): void {
  expectError(response, 429, 'RATE_LIMITED');
  const retryAfter = Number(header(response, 'retry-after'));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(window === 'minute' ? 60 : 3600);
  expect(response.body.error.details.retry_after).toBe(retryAfter);
  expect(response.body.error.details.window).toBe(window);
  expect(response.body.error.details.limit).toBe(limit);
}

describe('Rate limits: anonymous callers by IP (default 10/min, 100/h)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start({ ...LIMITED });
  });
  afterAll(() => app.stop());

  it('allows 10 requests a minute with counting-down headers, then answers 429 with Retry-After; health is never limited', async () => {
    await inOneWindow();
    for (let i = 1; i <= 10; i++) {
      const response = await app.get('/api/v1/user-levels');
      expect(response.status).toBe(200);
      expectLimitHeaders(response, 10, 10 - i);
    }
    const limited = await app.get('/api/v1/user-levels');
    expectRateLimited(limited, 'minute', 10);
    // A 429 is a limited response too: it carries the headers, nothing remaining.
    expectLimitHeaders(limited, 10, 0);

    // Another public route shares the caller's window.
    expectRateLimited(await app.get('/api/v1/plans'), 'minute', 10);

    // Health is exempt, even for a caller who is over the limit.
    for (let i = 0; i < 15; i++) {
      const health = await app.get('/api/v1/health');
      expect(health.status).toBe(200);
      expect(header(health, 'x-ratelimit-limit')).toBeNull();
    }
    expectRateLimited(await app.get('/api/v1/user-levels'), 'minute', 10);
  });
});

describe('Rate limits: the hour window', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start({ ...LIMITED, RATE_LIMIT_ANONYMOUS_PER_MINUTE: '1000', RATE_LIMIT_ANONYMOUS_PER_HOUR: '5' });
  });
  afterAll(() => app.stop());

  it('limits by the hour when the hour limit is the tighter one', async () => {
    await inOneWindow();
    for (let i = 1; i <= 5; i++) {
      const response = await app.get('/api/v1/user-levels');
      expect(response.status).toBe(200);
      expectLimitHeaders(response, 5, 5 - i, 3600);
    }
    const limited = await app.get('/api/v1/user-levels');
    expectRateLimited(limited, 'hour', 5);
  });
});

describe('Rate limits: per user, per plan', () => {
  let app: TestApp;
  let admin: string;
  beforeAll(async () => {
    app = await TestApp.start({ ...LIMITED, ...ROOMY_ANONYMOUS });
    admin = await app.adminToken();
  });
  afterAll(() => app.stop());

  const me = (options: { token?: string; apiKey?: string }) => app.get('/api/v1/users/me', options);

  it('seeds the plan limits: free 60/min 1000/h, basic 120/min 3000/h, enterprise unlimited', async () => {
    const response = await app.get('/api/v1/user-levels');
    expect(response.status).toBe(200);
    const byId = Object.fromEntries((response.body.plans as any[]).map((plan) => [plan.id, plan]));
    expect([byId.free.requests_per_minute, byId.free.requests_per_hour]).toEqual([60, 1000]);
    expect([byId.basic.requests_per_minute, byId.basic.requests_per_hour]).toEqual([120, 3000]);
    expect([byId.premium.requests_per_minute, byId.premium.requests_per_hour]).toEqual([300, 10000]);
    expect([byId.enterprise.requests_per_minute, byId.enterprise.requests_per_hour]).toEqual([null, null]);
  });

  it("counts per user against the plan's limit, which an admin edit changes at once", async () => {
    await inOneWindow();
    // A free user's request caches the free plan with its seeded 60/min…
    const warm = await app.registerUser();
    expectLimitHeaders(await me({ token: warm.token }), 60, 59);

    // …and the admin's edit replaces it on the next request.
    const update = await app.put('/api/v1/admin/plans/free', { requests_per_minute: 5 }, { token: admin });
    expect(update.status).toBe(200);
    expect(update.body.requests_per_minute).toBe(5);

    const first = await app.registerUser();
    const second = await app.registerUser();
    for (let i = 1; i <= 5; i++) {
      const response = await me({ token: first.token });
      expect(response.status).toBe(200);
      expectLimitHeaders(response, 5, 5 - i);
    }
    expectRateLimited(await me({ token: first.token }), 'minute', 5);

    // Another user on the same plan (and the same IP) has a window of their own.
    const other = await me({ token: second.token });
    expect(other.status).toBe(200);
    expectLimitHeaders(other, 5, 4);
  });

  it("counts a user's API key requests in the same window as the user's JWT requests", async () => {
    await inOneWindow();
    const user = await app.registerUser();
    const created = await app.post('/api/v1/api-keys', { name: 'rate limit test', scopes: ['profile:read'] }, { token: user.token });
    expect(created.status).toBe(201);
    expectLimitHeaders(created, 5, 4);
    const key = created.body.key as string;

    const viaKey1 = await me({ apiKey: key });
    expect(viaKey1.status).toBe(200);
    expectLimitHeaders(viaKey1, 5, 3);
    const viaJwt = await me({ token: user.token });
    expect(viaJwt.status).toBe(200);
    expectLimitHeaders(viaJwt, 5, 2);
    const viaBearerKey = await me({ token: key }); // Authorization: Bearer sk-… is the same key
    expect(viaBearerKey.status).toBe(200);
    expectLimitHeaders(viaBearerKey, 5, 1);
    const viaKey2 = await me({ apiKey: key });
    expect(viaKey2.status).toBe(200);
    expectLimitHeaders(viaKey2, 5, 0);

    expectRateLimited(await me({ apiKey: key }), 'minute', 5);
    expectRateLimited(await me({ token: user.token }), 'minute', 5);
  });

  it("gives a basic user basic's limit (120/min)", async () => {
    await inOneWindow(15_000);
    const user = await app.registerUser();
    const update = await app.put(`/api/v1/admin/users/${user.id}`, { level: 'basic' }, { token: admin });
    expect(update.status).toBe(200);
    expect(update.body.level).toBe('basic');
    for (let i = 1; i <= 120; i++) {
      const response = await me({ token: user.token });
      expect(response.status).toBe(200);
      expectLimitHeaders(response, 120, 120 - i);
    }
    expectRateLimited(await me({ token: user.token }), 'minute', 120);
  }, 120_000);

  it('never limits an admin, even one on a limited plan', async () => {
    await inOneWindow(15_000);
    // The seeded admin is on enterprise; this one is on free (now 5/min), so only the role exempts it.
    const created = await app.post(
      '/api/v1/admin/users',
      { username: `admin_${randomBytes(4).toString('hex')}`, email: `admin_${randomBytes(4).toString('hex')}@example.test`, password: 'password-123', role: 'admin' },
      { token: admin },
    );
    expect(created.status).toBe(201);
    expect(created.body.level).toBe('free');
    const login = await app.post('/api/v1/auth/login', { username: created.body.username, password: 'password-123' });
    expect(login.status).toBe(200);
    const token = login.body.tokens.access as string;
    const statuses = new Set<number>();
    for (let i = 0; i < 130; i++) statuses.add((await me({ token })).status);
    expect([...statuses]).toEqual([200]);
  }, 120_000);

  it('never limits an enterprise user (requests_per_minute null)', async () => {
    await inOneWindow(15_000);
    const user = await app.registerUser();
    const update = await app.put(`/api/v1/admin/users/${user.id}`, { level: 'enterprise' }, { token: admin });
    expect(update.status).toBe(200);
    expect(update.body.level).toBe('enterprise');
    const statuses = new Set<number>();
    for (let i = 0; i < 130; i++) statuses.add((await me({ token: user.token })).status);
    expect([...statuses]).toEqual([200]);
  }, 120_000);
});

describe('Rate limits: RATE_LIMIT_ENABLED=false', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start({ RATE_LIMIT_ENABLED: 'false' });
  });
  afterAll(() => app.stop());

  it('sends no rate limit headers and never answers 429', async () => {
    for (let i = 0; i < 15; i++) {
      const response = await app.get('/api/v1/user-levels');
      expect(response.status).toBe(200);
      expect(header(response, 'x-ratelimit-limit')).toBeNull();
      expect(header(response, 'x-ratelimit-remaining')).toBeNull();
      expect(header(response, 'x-ratelimit-reset')).toBeNull();
    }
  });
});

describe('Rate limits: the login lockout is separate', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start({ ...LIMITED, ...ROOMY_ANONYMOUS });
  });
  afterAll(() => app.stop());

  it('locks an account after 5 failed logins with its own 429, while the limiter still has room', async () => {
    await inOneWindow();
    const user = await app.registerUser();
    const bystander = await app.registerUser();
    for (let i = 0; i < 5; i++) {
      const failed = await app.post('/api/v1/auth/login', { username: user.username, password: 'wrong-password' });
      expectError(failed, 401, 'INVALID_CREDENTIALS');
    }
    const locked = await app.post('/api/v1/auth/login', { username: user.username, password: user.password });
    expectError(locked, 429, 'RATE_LIMITED');
    const retryAfter = Number(header(locked, 'retry-after'));
    expect(locked.body.error.details.retry_after).toBe(retryAfter);
    // 15 minutes, not a rate limit window's remainder.
    expect(retryAfter).toBeGreaterThan(60);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(locked.body.error.details.window).toBeUndefined();
    // The limiter counted these requests and had plenty left.
    expect(header(locked, 'x-ratelimit-limit')).toBe('10000');
    expect(Number(header(locked, 'x-ratelimit-remaining'))).toBeGreaterThan(9_900);

    // Per account, not per IP: another user from the same address logs in.
    const other = await app.post('/api/v1/auth/login', { username: bystander.username, password: bystander.password });
    expect(other.status).toBe(200);
  });
});

describe('Rate limits: the memory store is per instance', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await TestApp.start({ ...LIMITED });
    b = await TestApp.start({ ...LIMITED }, { databaseName: a.databaseNameForSharing });
  });
  afterAll(async () => {
    await b?.stop({ keepDatabase: true });
    await a?.stop();
  });

  it('does not share counts between two instances without Redis', async () => {
    await inOneWindow();
    for (let i = 1; i <= 10; i++) expect((await a.get('/api/v1/user-levels')).status).toBe(200);
    expectRateLimited(await a.get('/api/v1/user-levels'), 'minute', 10);
    const onB = await b.get('/api/v1/user-levels');
    expect(onB.status).toBe(200);
    expectLimitHeaders(onB, 10, 9);
  });
});

describe('Rate limits: the Redis store is shared by instances', () => {
  let redisUp = false;
  const prefix = `test-${randomBytes(6).toString('hex')}:`;
  beforeAll(async () => {
    redisUp = await canConnect(REDIS_PORT);
  });

  it('shares anonymous counts between two instances with the same REDIS_URL and REDIS_KEY_PREFIX', async () => {
    if (!redisUp) {
      console.warn(`Redis does not answer at 127.0.0.1:${REDIS_PORT}: the shared-count test was skipped`);
      return;
    }
    const env = { ...LIMITED, REDIS_URL, REDIS_KEY_PREFIX: prefix };
    const a = await TestApp.start(env);
    const b = await TestApp.start(env, { databaseName: a.databaseNameForSharing });
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      await inOneWindow();
      for (let i = 1; i <= 6; i++) {
        const response = await a.get('/api/v1/user-levels');
        expect(response.status).toBe(200);
        expectLimitHeaders(response, 10, 10 - i);
      }
      for (let i = 7; i <= 10; i++) {
        const response = await b.get('/api/v1/user-levels');
        expect(response.status).toBe(200);
        expectLimitHeaders(response, 10, 10 - i);
      }
      expectRateLimited(await a.get('/api/v1/user-levels'), 'minute', 10);
      expectRateLimited(await b.get('/api/v1/user-levels'), 'minute', 10);

      // The counters live in Redis under the configured prefix.
      const keys = await redis.keys(`${prefix}*`);
      expect(keys.length).toBeGreaterThan(0);
    } finally {
      const keys = await redis.keys(`${prefix}*`).catch(() => [] as string[]);
      if (keys.length > 0) await redis.del(...keys).catch(() => undefined);
      redis.disconnect();
      await b.stop({ keepDatabase: true });
      await a.stop();
    }
  }, 120_000);
});
