import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Profile pages and statistics, end to end: GET /user-stats,
 * /profile/stats, /profile/enhanced-stats (runs inserted with past dates,
 * snippets, posts, likes, follows), /users/:id/stats (public figures only;
 * a private profile is 403 to others), /users/by-username/:username (a
 * private profile shows only id, username and avatar) and /users/search.
 */

type User = Awaited<ReturnType<TestApp['registerUser']>>;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('Profiles and statistics', () => {
  let app: TestApp;
  let admin: string;
  let alice: User;
  let bob: User;
  let carol: User;

  /** A finished run of `userId`, `daysAgo` UTC days before today at noon (or now, for 0). */
  async function run(userId: string, daysAgo: number, language: string, status: string, timeMs: number | null): Promise<void> {
    await app.query(
      `INSERT INTO executions (id, user_id, source, language, code, status, execution_time_ms, timeout_ms, memory_mb, created_at, finished_at)
       VALUES (gen_random_uuid(), $1, 'web', $2, 'print(1)', $3, $4, 5000, 128,
               CASE WHEN $5::int = 0 THEN now() ELSE date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' - make_interval(days => $5::int) + interval '12 hours' END, now())`,
      [userId, language, status, timeMs, daysAgo],
    );
  }

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    [alice, bob, carol] = [await app.registerUser({ username: `alice_${Date.now() % 100000}` }), await app.registerUser(), await app.registerUser()];
    await app.put('/profile', { name: 'Alice Liddell', bio: 'Down the rabbit hole', github: 'alice' }, { token: alice.token });

    // alice: 5 runs (today: 2; 3 successful; python 3, javascript 2), 2 snippets (1 public), 2 posts (1 private).
    await run(alice.id, 0, 'python', 'success', 100);
    await run(alice.id, 0, 'javascript', 'error', 300);
    await run(alice.id, 1, 'python', 'success', 200);
    await run(alice.id, 3, 'python', 'timeout', null);
    await run(alice.id, 29, 'javascript', 'success', 400);
    await run(alice.id, 45, 'python', 'success', 400); // outside the 30 days, still in the totals
    for (const is_public of [true, false]) {
      expect((await app.post('/code-library', { title: 't', code: 'print(1)', is_public }, { token: alice.token })).status).toBe(201);
    }
    const publicPost = await app.post('/community/posts', { title: 'Public', content: 'hello' }, { token: alice.token });
    const privatePost = await app.post('/community/posts', { title: 'Private', content: 'hello', is_public: false }, { token: alice.token });
    expect([publicPost.status, privatePost.status]).toEqual([201, 201]);
    // Received: 2 likes and 1 favorite on the public post, 1 like on the private one (her own), 1 comment.
    for (const user of [bob, carol]) expect((await app.post(`/community/posts/${publicPost.body.id}/like`, undefined, { token: user.token })).status).toBe(200);
    expect((await app.post(`/community/posts/${privatePost.body.id}/like`, undefined, { token: alice.token })).status).toBe(200);
    expect((await app.post(`/community/posts/${publicPost.body.id}/favorite`, undefined, { token: bob.token })).status).toBe(200);
    expect((await app.post(`/community/posts/${publicPost.body.id}/comments`, { content: 'nice' }, { token: carol.token })).status).toBe(201);
    // Follows: bob and carol follow alice; alice follows bob.
    for (const [from, to] of [[bob, alice], [carol, alice], [alice, bob]] as const) {
      expect((await app.post(`/community/follow/${to.id}`, undefined, { token: from.token })).status).toBe(200);
    }
  });
  afterAll(async () => {
    await app.stop();
  });

  it('GET /user-stats: runs, snippets, posts and followers', async () => {
    const response = await app.get('/user-stats', { token: alice.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ executions: { total: 6, today: 2, success_rate: 0.6667 }, snippets: 2, posts: 2, followers: 2 });
  });

  it('GET /profile/stats: the profile page counts', async () => {
    const response = await app.get('/profile/stats', { token: alice.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      posts: 2, snippets: 2, public_snippets: 1, followers: 2, following: 1, executions: 6, likes_received: 3, favorites_received: 1,
    });
  });

  it('GET /profile/enhanced-stats: 30 days with zeros, languages, mean time, what posts received', async () => {
    const response = await app.get('/profile/enhanced-stats', { token: alice.token });
    expect(response.status).toBe(200);
    const { executions, ...rest } = response.body;
    expect(rest).toEqual({
      snippets: 2, public_snippets: 1, posts: 2, followers: 2, following: 1, likes_received: 3, favorites_received: 1, comments_received: 1,
    });
    expect(executions).toMatchObject({ total: 6, today: 2, successful: 4, success_rate: 0.6667, average_time_ms: 280 });
    expect(executions.by_language).toEqual([{ language: 'python', count: 4 }, { language: 'javascript', count: 2 }]);
    expect(executions.per_day).toHaveLength(30);
    const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
    expect(executions.per_day[29]).toEqual({ date: day(0), count: 2, successful: 1 });
    expect(executions.per_day[28]).toEqual({ date: day(1), count: 1, successful: 1 });
    expect(executions.per_day[26]).toEqual({ date: day(3), count: 1, successful: 0 });
    expect(executions.per_day[0]).toEqual({ date: day(29), count: 1, successful: 1 });
    expect(executions.per_day[27]).toEqual({ date: day(2), count: 0, successful: 0 });
    expect(executions.per_day.reduce((sum: number, d: { count: number }) => sum + d.count, 0)).toBe(5);
  });

  it('a user without anything has zeros, and a rate of 0', async () => {
    const fresh = await app.registerUser();
    const response = await app.get('/profile/enhanced-stats', { token: fresh.token });
    expect(response.status).toBe(200);
    expect(response.body.executions).toMatchObject({ total: 0, today: 0, successful: 0, success_rate: 0, average_time_ms: null, by_language: [] });
    expect(response.body.executions.per_day.every((d: { count: number }) => d.count === 0)).toBe(true);
    expect((await app.get('/user-stats', { token: fresh.token })).body).toEqual({ executions: { total: 0, today: 0, success_rate: 0 }, snippets: 0, posts: 0, followers: 0 });
  });

  it('GET /users/:id/stats: public posts and snippets only; 404 for nobody; 400 for a bad id', async () => {
    const response = await app.get(`/users/${alice.id}/stats`, { token: bob.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      user_id: alice.id, posts: 1, snippets: 1, followers: 2, following: 1, likes_received: 2, favorites_received: 1, comments_received: 1,
    });
    expectError(await app.get(`/users/${UNKNOWN_ID}/stats`, { token: bob.token }), 404, 'NOT_FOUND');
    expectValidation(await app.get('/users/not-a-uuid/stats', { token: bob.token }), 'id');
    expectError(await app.get(`/users/${alice.id}/stats`), 401, 'UNAUTHORIZED');
  });

  it('GET /users/by-username/:username: a public profile with counts and follow status, never the e-mail', async () => {
    const response = await app.get(`/users/by-username/${alice.username.toUpperCase()}`, { token: bob.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      id: alice.id, username: alice.username, is_public: true, name: 'Alice Liddell', bio: 'Down the rabbit hole', github: 'alice',
      posts_count: 1, followers_count: 2, following_count: 1, following: true, followed_by: true,
    });
    expect(response.body).not.toHaveProperty('email');
    // Her own page counts her private post too.
    expect((await app.get(`/users/by-username/${alice.username}`, { token: alice.token })).body.posts_count).toBe(2);
    expectError(await app.get('/users/by-username/nobody_here', { token: bob.token }), 404, 'NOT_FOUND');
    expectError(await app.get(`/users/by-username/${'x'.repeat(40)}`, { token: bob.token }), 404, 'NOT_FOUND');
  });

  describe('a private profile', () => {
    let dora: User;
    beforeAll(async () => {
      dora = await app.registerUser({ username: `dora_${Date.now() % 100000}` });
      expect((await app.put('/profile', { name: 'Dora Secret', bio: 'hidden', is_public: false }, { token: dora.token })).status).toBe(200);
    });

    it('shows others only id, username and avatar; its owner and admins everything', async () => {
      const seen = await app.get(`/users/by-username/${dora.username}`, { token: bob.token });
      expect(seen.status).toBe(200);
      expect(seen.body).toEqual({ id: dora.id, username: dora.username, avatar_url: null, is_public: false });
      for (const token of [dora.token, admin]) {
        const full = await app.get(`/users/by-username/${dora.username}`, { token });
        expect(full.body).toMatchObject({ name: 'Dora Secret', bio: 'hidden', is_public: false });
      }
    });

    it('its stats are 403 to others, 200 to its owner and admins', async () => {
      expectError(await app.get(`/users/${dora.id}/stats`, { token: bob.token }), 403, 'FORBIDDEN');
      expect((await app.get(`/users/${dora.id}/stats`, { token: dora.token })).status).toBe(200);
      expect((await app.get(`/users/${dora.id}/stats`, { token: admin })).status).toBe(200);
    });

    it('is found by username but not by name, and search hides its name', async () => {
      const byName = await app.get('/users/search?q=Dora%20Secret', { token: bob.token });
      expect(byName.status).toBe(200);
      expect(byName.body.users).toEqual([]);
      const byUsername = await app.get(`/users/search?q=${dora.username}`, { token: bob.token });
      expect(byUsername.body.users).toEqual([{ id: dora.id, username: dora.username, name: null, avatar_url: null }]);
    });
  });

  it('GET /users/search: by username or public name, exact match first, paginated', async () => {
    const byName = await app.get('/users/search?q=liddell', { token: bob.token });
    expect(byName.status).toBe(200);
    expect(byName.body.users).toEqual([{ id: alice.id, username: alice.username, name: 'Alice Liddell', avatar_url: null }]);
    expect(byName.body.pagination).toEqual({ total: 1, page: 1, limit: 20, pages: 1 });

    const exact = await app.get(`/users/search?q=${alice.username}`, { token: bob.token });
    expect(exact.body.users[0].id).toBe(alice.id);
    const page = await app.get('/users/search?q=user_&limit=1&page=2', { token: bob.token });
    expect(page.status).toBe(200);
    expect(page.body.users).toHaveLength(1);
    expect(page.body.pagination.total).toBeGreaterThanOrEqual(2);
    // % and _ are literal: "%" matches no username.
    expect((await app.get('/users/search?q=%25', { token: bob.token })).body.users).toEqual([]);
    expectValidation(await app.get('/users/search', { token: bob.token }), 'q');
    expectValidation(await app.get(`/users/search?q=${'a'.repeat(101)}`, { token: bob.token }), 'q');
  });

  it('JWT only: an API key is refused', async () => {
    const key = await app.post('/api-keys', { name: 'k', scopes: ['profile:read'] }, { token: carol.token });
    expect(key.status).toBe(201);
    for (const path of ['/user-stats', '/profile/stats', '/profile/enhanced-stats', `/users/${alice.id}/stats`, '/users/search?q=a']) {
      expectError(await app.get(path, { apiKey: key.body.key }), 403, 'FORBIDDEN');
    }
  });
});
