import { EventBus, ofType } from '@nestjs/cqrs';
import type { Subscription } from 'rxjs';
import { RealtimeEvent } from '../../src/common/events/realtime-event';
import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Notifications, end to end: GET /notifications (newest first, ?unread, pages,
 * unread_count), marking one or all read, deleting, someone else's (404, an
 * admin's reach too), bad input and no credentials; the audit entries of the
 * writes. Then each source writes exactly one notification for the right user
 * with the right data: a like, favorite, comment, reply, comment like and
 * follow (never for one's own), an upload, a background run's end (not a
 * waited one); each is published as a RealtimeEvent on the user's channel
 * with the shape the REST API shows. Deleting a user takes theirs with it;
 * notifications.sweep deletes old ones.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const FIELDS = ['id', 'type', 'title', 'body', 'data', 'read_at', 'created_at'].sort();
const DAY = 86_400_000;

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Notifications (/api/v1/notifications)', () => {
  let app: TestApp;
  let admin: string;
  let realtime: RealtimeEvent[];
  let subscription: Subscription;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    realtime = [];
    subscription = app.running.app.get(EventBus).pipe(ofType(RealtimeEvent)).subscribe((event) => realtime.push(event));
  });
  afterAll(async () => {
    subscription.unsubscribe();
    await app.stop();
  });

  /** Stores a notification directly (created `ageMs` ago), for the REST tests. */
  async function seed(userId: string, fields: { title?: string; type?: string; read?: boolean; ageMs?: number; data?: object } = {}): Promise<string> {
    const { rows } = await app.query(
      `INSERT INTO notifications (id, user_id, type, title, body, data, read_at, created_at)
       VALUES (gen_random_uuid(), $1, $2, $3, 'body', $4, CASE WHEN $5::boolean THEN now() END, now() - $6 * interval '1 millisecond')
       RETURNING id`,
      [userId, fields.type ?? 'follow', fields.title ?? 'seeded', JSON.stringify(fields.data ?? { k: 1 }), fields.read ?? false, fields.ageMs ?? 0],
    );
    return rows[0].id;
  }

  async function list(user: User, query = ''): Promise<any> {
    const response = await app.get(`/notifications${query}`, { token: user.token });
    if (response.status !== 200) throw new Error(`list failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async function stored(userId: string): Promise<any[]> {
    const { rows } = await app.query(`SELECT type, title, body, data FROM notifications WHERE user_id = $1 ORDER BY created_at, id`, [userId]);
    return rows;
  }

  /**
   * The user's notifications once `count` are stored (written after the response, by an event handler), after a
   * pause that would let a duplicate arrive too.
   */
  async function settled(userId: string, count: number, timeoutMs = 10_000): Promise<any[]> {
    const deadline = Date.now() + timeoutMs;
    while ((await stored(userId)).length < count && Date.now() < deadline) await sleep(25);
    await sleep(200);
    return stored(userId);
  }

  describe('the REST API', () => {
    it('lists my notifications newest first, with pagination and unread_count; nobody else\'s', async () => {
      const [user, other] = [await app.registerUser(), await app.registerUser()];
      expect(await list(user)).toEqual({ notifications: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 }, unread_count: 0 });
      const oldest = await seed(user.id, { title: 'oldest', ageMs: 3000, read: true });
      const middle = await seed(user.id, { title: 'middle', ageMs: 2000, type: 'post_like', data: { post_id: UNKNOWN_ID } });
      const newest = await seed(user.id, { title: 'newest', ageMs: 1000 });
      await seed(other.id, { title: 'not mine' });

      const all = await list(user);
      expect(all.notifications.map((n: any) => n.id)).toEqual([newest, middle, oldest]);
      expect(all.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
      expect(all.unread_count).toBe(2);
      for (const n of all.notifications) expect(Object.keys(n).sort()).toEqual(FIELDS);
      expect(all.notifications[1]).toEqual({
        id: middle, type: 'post_like', title: 'middle', body: 'body', data: { post_id: UNKNOWN_ID }, read_at: null, created_at: expect.stringMatching(ISO),
      });
      expect(all.notifications[2].read_at).toMatch(ISO);

      const unread = await list(user, '?unread=true');
      expect(unread.notifications.map((n: any) => n.id)).toEqual([newest, middle]);
      expect(unread.pagination.total).toBe(2);
      expect(unread.unread_count).toBe(2);
      const read = await list(user, '?unread=false');
      expect(read.notifications.map((n: any) => n.id)).toEqual([oldest]);
      expect(read.pagination.total).toBe(1);
      expect(read.unread_count).toBe(2);

      const page2 = await list(user, '?page=2&limit=2');
      expect(page2.notifications.map((n: any) => n.id)).toEqual([oldest]);
      expect(page2.pagination).toEqual({ total: 3, page: 2, limit: 2, pages: 2 });
      expect((await list(user, '?page=3&limit=2')).notifications).toEqual([]);
    });

    it('marks one read, idempotently (the first read_at stays)', async () => {
      const user = await app.registerUser();
      const id = await seed(user.id, { title: 'to read' });
      const first = await app.post(`/notifications/${id}/read`, undefined, { token: user.token });
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ id, type: 'follow', title: 'to read', body: 'body', data: { k: 1 }, read_at: expect.stringMatching(ISO), created_at: expect.stringMatching(ISO) });
      await sleep(20);
      const second = await app.post(`/notifications/${id}/read`, undefined, { token: user.token });
      expect(second.status).toBe(200);
      expect(second.body.read_at).toBe(first.body.read_at);
      expect((await list(user)).unread_count).toBe(0);
      // Upper-case ids name the same notification.
      expect((await app.post(`/notifications/${id.toUpperCase()}/read`, undefined, { token: user.token })).body.read_at).toBe(first.body.read_at);
    });

    it('marks all read and says how many were unread', async () => {
      const [user, other] = [await app.registerUser(), await app.registerUser()];
      await seed(user.id);
      await seed(user.id);
      await seed(user.id, { read: true });
      const otherId = await seed(other.id);
      const response = await app.post('/notifications/read-all', undefined, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ updated: 2 });
      expect((await list(user)).unread_count).toBe(0);
      expect((await app.post('/notifications/read-all', undefined, { token: user.token })).body).toEqual({ updated: 0 });
      // Someone else's stay unread.
      expect((await app.query(`SELECT read_at FROM notifications WHERE id = $1`, [otherId])).rows[0].read_at).toBeNull();
    });

    it('deletes one; a second delete is 404', async () => {
      const user = await app.registerUser();
      const [keep, gone] = [await seed(user.id, { ageMs: 10 }), await seed(user.id)];
      const response = await app.delete(`/notifications/${gone}`, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });
      expect((await list(user)).notifications.map((n: any) => n.id)).toEqual([keep]);
      expectError(await app.delete(`/notifications/${gone}`, { token: user.token }), 404, 'NOT_FOUND');
    });

    it('someone else\'s notification is 404 (not 403), for an admin too, and stays as it was', async () => {
      const [owner, stranger] = [await app.registerUser(), await app.registerUser()];
      const id = await seed(owner.id);
      expectError(await app.post(`/notifications/${id}/read`, undefined, { token: stranger.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/notifications/${id}`, { token: stranger.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/notifications/${id}/read`, undefined, { token: admin }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/notifications/${id}`, { token: admin }), 404, 'NOT_FOUND');
      expect((await app.post('/notifications/read-all', undefined, { token: stranger.token })).body).toEqual({ updated: 0 });
      expect((await app.query(`SELECT read_at FROM notifications WHERE id = $1`, [id])).rows).toEqual([{ read_at: null }]);
      expectError(await app.post(`/notifications/${UNKNOWN_ID}/read`, undefined, { token: owner.token }), 404, 'NOT_FOUND');
    });

    it('answers 401 without a token, and refuses API keys (JWT only)', async () => {
      const user = await app.registerUser();
      const id = await seed(user.id);
      expectError(await app.get('/notifications'), 401, 'UNAUTHORIZED');
      expectError(await app.post(`/notifications/${id}/read`), 401, 'UNAUTHORIZED');
      expectError(await app.post('/notifications/read-all'), 401, 'UNAUTHORIZED');
      expectError(await app.delete(`/notifications/${id}`), 401, 'UNAUTHORIZED');
      const key = await app.post('/api-keys', { name: 'k', scopes: ['*'] }, { token: user.token });
      expect(key.status).toBe(201);
      expectError(await app.get('/notifications', { apiKey: key.body.key }), 403, 'FORBIDDEN');
      expectError(await app.post(`/notifications/${id}/read`, undefined, { apiKey: key.body.key }), 403, 'FORBIDDEN');
      expect((await app.query(`SELECT read_at FROM notifications WHERE id = $1`, [id])).rows[0].read_at).toBeNull();
    });

    it('answers 400 for a bad id and bad query values', async () => {
      const user = await app.registerUser();
      expectValidation(await app.post('/notifications/not-a-uuid/read', undefined, { token: user.token }), 'id');
      expectValidation(await app.delete('/notifications/1234', { token: user.token }), 'id');
      expectValidation(await app.get('/notifications?unread=yes', { token: user.token }), 'unread');
      expectValidation(await app.get('/notifications?unread=', { token: user.token }), 'unread');
      expectValidation(await app.get('/notifications?page=0', { token: user.token }), 'page');
      expectValidation(await app.get('/notifications?limit=101', { token: user.token }), 'limit');
      expectValidation(await app.get('/notifications?limit=abc', { token: user.token }), 'limit');
      expectValidation(await app.get('/notifications?page=99999999999', { token: user.token }), 'page');
      expectValidation(await app.get('/notifications?read=true', { token: user.token }), 'read');
    });

    it('audits the writes as notification.read, notification.read_all and notification.delete', async () => {
      const user = await app.registerUser();
      const [a, b] = [await seed(user.id), await seed(user.id)];
      await app.post(`/notifications/${a}/read`, undefined, { token: user.token });
      await app.post('/notifications/read-all', undefined, { token: user.token });
      await app.delete(`/notifications/${b}`, { token: user.token });
      await app.delete(`/notifications/${b}`, { token: user.token });
      const { rows } = await app.query(
        `SELECT action, resource_type, resource_id, status_code FROM audit_logs WHERE user_id = $1 AND action LIKE 'notification.%' ORDER BY created_at`,
        [user.id],
      );
      expect(rows).toEqual([
        { action: 'notification.read', resource_type: 'notification', resource_id: a, status_code: 200 },
        { action: 'notification.read_all', resource_type: 'notification', resource_id: null, status_code: 200 },
        { action: 'notification.delete', resource_type: 'notification', resource_id: b, status_code: 200 },
        { action: 'notification.delete', resource_type: 'notification', resource_id: b, status_code: 404 },
      ]);
    });
  });

  describe('sources', () => {
    async function createPost(token: string, title: string): Promise<any> {
      const response = await app.post('/community/posts', { title, content: 'Some *text*' }, { token });
      if (response.status !== 201) throw new Error(`post create failed: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    }

    async function comment(token: string, postId: string, content: string, parentId?: string): Promise<any> {
      const response = await app.post(`/community/posts/${postId}/comments`, parentId ? { content, parent_id: parentId } : { content }, { token });
      if (response.status !== 201) throw new Error(`comment failed: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body;
    }

    async function ok(response: Promise<{ status: number; body: any }>): Promise<any> {
      const { status, body } = await response;
      if (status >= 300) throw new Error(`request failed: ${status} ${JSON.stringify(body)}`);
      return body;
    }

    it('a like tells the post\'s author once, with who and which post; liking my own post tells nobody', async () => {
      const [owner, liker] = [await app.registerUser(), await app.registerUser()];
      const post = await createPost(owner.token, 'Binary search');
      await ok(app.post(`/community/posts/${post.id}/like`, undefined, { token: owner.token }));
      await ok(app.post(`/community/posts/${post.id}/like`, undefined, { token: liker.token }));
      expect(await settled(owner.id, 1)).toEqual([
        { type: 'post_like', title: `${liker.username} liked your post “Binary search”`, body: '', data: { actor_id: liker.id, actor_username: liker.username, post_id: post.id } },
      ]);
      expect(await stored(liker.id)).toEqual([]);
      // Taking the like back tells nobody.
      await ok(app.post(`/community/posts/${post.id}/like`, undefined, { token: liker.token }));
      expect(await settled(owner.id, 2, 300)).toHaveLength(1);
    });

    it('a favorite, a comment, a reply, a comment like and a follow each tell the right user once', async () => {
      const [owner, commenter, replier] = [await app.registerUser(), await app.registerUser(), await app.registerUser()];
      const post = await createPost(owner.token, 'Sorting');
      const actor = (user: User) => ({ actor_id: user.id, actor_username: user.username });

      await ok(app.post(`/community/posts/${post.id}/favorite`, undefined, { token: commenter.token }));
      const top = await comment(commenter.token, post.id, 'Nice\n\n**work**');
      const reply = await comment(replier.token, post.id, 'Thanks!', top.id);
      await ok(app.post(`/community/comments/${top.id}/like`, undefined, { token: owner.token }));
      await ok(app.post(`/community/follow/${owner.id}`, undefined, { token: replier.token }));
      // One's own: a comment on my post, a like of my comment.
      await comment(owner.token, post.id, 'my own');
      await ok(app.post(`/community/comments/${top.id}/like`, undefined, { token: commenter.token }));

      const forOwner = await settled(owner.id, 4);
      expect(forOwner).toEqual(expect.arrayContaining([
        { type: 'post_favorite', title: `${commenter.username} added your post “Sorting” to their favorites`, body: '', data: { ...actor(commenter), post_id: post.id } },
        { type: 'comment', title: `${commenter.username} commented on your post “Sorting”`, body: 'Nice **work**', data: { ...actor(commenter), post_id: post.id, comment_id: top.id } },
        { type: 'comment', title: `${replier.username} commented on your post “Sorting”`, body: 'Thanks!', data: { ...actor(replier), post_id: post.id, comment_id: reply.id } },
        { type: 'follow', title: `${replier.username} started following you`, body: '', data: actor(replier) },
      ]));
      expect(forOwner).toHaveLength(4);
      const forCommenter = await settled(commenter.id, 2);
      expect(forCommenter).toEqual(expect.arrayContaining([
        { type: 'reply', title: `${replier.username} replied to your comment on “Sorting”`, body: 'Thanks!', data: { ...actor(replier), post_id: post.id, comment_id: reply.id } },
        { type: 'comment_like', title: `${owner.username} liked your comment on “Sorting”`, body: '', data: { ...actor(owner), post_id: post.id, comment_id: top.id } },
      ]));
      expect(forCommenter).toHaveLength(2);
      expect(await stored(replier.id)).toEqual([]);
    });

    it('an upload tells its owner once per file, with the file\'s data', async () => {
      const user = await app.registerUser();
      const form = new FormData();
      form.append('path', '/reports');
      form.append('files', new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), 'report.csv');
      form.append('files', new Blob(['hello'], { type: 'text/plain' }), 'notes.txt');
      const response = await fetch(`${app.url}/api/v1/files/upload`, { method: 'POST', body: form, headers: { authorization: `Bearer ${user.token}` } });
      expect(response.status).toBe(201);
      const files: any[] = ((await response.json()) as any).files;
      const got = await settled(user.id, 2);
      expect(got).toHaveLength(2);
      for (const file of files) {
        expect(got).toContainEqual({
          type: 'file_upload', title: `${file.filename} uploaded`, body: '',
          data: { file_id: file.id, filename: file.filename, path: '/reports', size: file.size, project_id: null },
        });
      }
    });

    it('a background run tells its owner when it ends; a run the caller waited for does not', async () => {
      const user = await app.registerUser();
      const waited = await app.post('/execute', { code: 'print(1)' }, { token: user.token });
      expect(waited.status).toBe(200);
      const started = await app.post('/execute?wait=false', { code: 'import sys\nprint("x")\nsys.exit(3)' }, { token: user.token });
      expect(started.status).toBe(202);
      const [got] = await settled(user.id, 1, 30_000);
      const run = (await app.get(`/executions/${started.body.id}`, { token: user.token })).body;
      expect(run.status).toBe('error');
      expect(got).toEqual({
        type: 'execution_finished',
        title: 'Your Python run failed',
        body: `Exit code 3 after ${run.execution_time_ms} ms`,
        data: { execution_id: started.body.id, status: 'error', language: 'python', exit_code: 3, duration_ms: run.execution_time_ms },
      });
      expect(await stored(user.id)).toHaveLength(1);
    });

    it('each new notification is published for the realtime gateway on the user\'s channel, as the API shows it', async () => {
      const [owner, follower] = [await app.registerUser(), await app.registerUser()];
      realtime.length = 0;
      await ok(app.post(`/community/follow/${owner.id}`, undefined, { token: follower.token }));
      await settled(owner.id, 1);
      const [listed] = (await list(owner)).notifications;
      const mine = realtime.filter((event) => event.channel === `notifications:${owner.id}`);
      expect(mine).toHaveLength(1);
      expect(mine[0].type).toBe('notification');
      expect(mine[0].payload).toEqual(listed);
      expect(listed.id).toMatch(UUID);
    });
  });

  it('deleting a user deletes their notifications', async () => {
    const user = await app.registerUser();
    await seed(user.id);
    await seed(user.id, { read: true });
    await app.query(`DELETE FROM users WHERE id = $1`, [user.id]);
    expect((await app.query(`SELECT count(*)::int AS n FROM notifications WHERE user_id = $1`, [user.id])).rows[0].n).toBe(0);
  });

  it('notifications.sweep deletes read ones over 90 days old and any over 365 days old', async () => {
    const user = await app.registerUser();
    const keptUnread = await seed(user.id, { ageMs: 200 * DAY });
    const keptRead = await seed(user.id, { ageMs: 89 * DAY, read: true });
    const keptNew = await seed(user.id);
    await seed(user.id, { ageMs: 91 * DAY, read: true });
    await seed(user.id, { ageMs: 366 * DAY });
    await seed(user.id, { ageMs: 400 * DAY, read: true });
    const response = await app.post('/admin/maintenance/jobs/notifications.sweep/run', undefined, { token: admin });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ job_name: 'notifications.sweep', status: 'succeeded', error: null });
    expect(response.body.output).toEqual({ deleted: 3 });
    const { rows } = await app.query(`SELECT id FROM notifications WHERE user_id = $1`, [user.id]);
    expect(rows.map((r: any) => r.id).sort()).toEqual([keptUnread, keptRead, keptNew].sort());
  });
});
