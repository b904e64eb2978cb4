import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { EventBus, ofType } from '@nestjs/cqrs';
import type { Subscription } from 'rxjs';
import { CommunityActivityEvent } from '../../src/modules/community/events/community-activity.event';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * The community, end to end: posts (Markdown rendered to sanitized HTML, tags,
 * code or a snippet), who may see, edit and delete them; the listing and its
 * filters (tag, author, full text, following, popular), pagination and the
 * caller's likes and favorites; views once per user and hour; nested comments
 * (the tree in one page, deleted ones kept as "[deleted]") and the constant
 * number of SQL statements a page of comments costs; follows and private
 * profiles; the per-action rate limits; the CommunityActivityEvents (for notifications).
 * Concurrency (counters under races) is in community-races.e2e-spec.ts.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const POST_FIELDS = [
  'id', 'title', 'content', 'content_html', 'code', 'code_language', 'snippet_id', 'tags', 'is_public', 'author',
  'likes_count', 'favorites_count', 'comments_count', 'views_count', 'liked', 'favorited', 'created_at', 'updated_at',
].sort();
const COMMENT_FIELDS = ['id', 'post_id', 'parent_id', 'depth', 'author', 'content', 'deleted', 'likes_count', 'liked', 'created_at', 'updated_at'].sort();
const FOLLOW_USER_FIELDS = ['id', 'username', 'name', 'avatar_url', 'followed_at', 'following'].sort();
const REL = 'nofollow noopener noreferrer ugc';

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A word no other post of this run contains (letters only: the full-text parser keeps it whole). */
const word = (prefix = 'w') => `${prefix}${randomBytes(5).toString('hex').replace(/[0-9]/g, (d) => 'ghijklmnop'[Number(d)])}`;

function expectPostShape(body: any, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(body).sort()).toEqual(POST_FIELDS);
  expect(body.id).toMatch(UUID);
  expect(body.created_at).toMatch(ISO);
  expect(body.updated_at).toMatch(ISO);
  expect(Array.isArray(body.tags)).toBe(true);
  if (body.author !== null) expect(Object.keys(body.author).sort()).toEqual(['avatar_url', 'id', 'username']);
  expect(body).toMatchObject(expected);
}

function expectCommentShape(body: any, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(body).sort()).toEqual(COMMENT_FIELDS);
  expect(body.id).toMatch(UUID);
  expect(body.created_at).toMatch(ISO);
  expect(body.updated_at).toMatch(ISO);
  expect(body).toMatchObject(expected);
}

const authorOf = (user: User) => ({ id: user.id, username: user.username, avatar_url: null });

describe('Community (/api/v1/community, /users/:id/…)', () => {
  let app: TestApp;
  let db: Client;
  let admin: string;
  let adminId: string;
  let alice: User;
  let bob: User;
  let carol: User;

  beforeAll(async () => {
    app = await TestApp.start();
    db = new Client({ connectionString: app.databaseUrl });
    await db.connect();
    admin = await app.adminToken();
    adminId = (await db.query(`SELECT id FROM users WHERE username = 'admin'`)).rows[0].id;
    [alice, bob, carol] = [await app.registerUser(), await app.registerUser(), await app.registerUser()];
  });
  afterAll(async () => {
    await db.end();
    await app.stop();
  });

  async function createPost(token: string, body: Record<string, unknown> = {}): Promise<any> {
    const response = await app.post('/community/posts', { title: 'A post', content: 'Some *text*', ...body }, { token });
    if (response.status !== 201) throw new Error(`post create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async function comment(token: string, postId: string, content: string, parentId?: string): Promise<any> {
    const body = parentId ? { content, parent_id: parentId } : { content };
    const response = await app.post(`/community/posts/${postId}/comments`, body, { token });
    if (response.status !== 201) throw new Error(`comment failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async function snippet(token: string, body: Record<string, unknown>): Promise<any> {
    const response = await app.post('/code-library', { title: 'S', code: 'print(1)', ...body }, { token });
    if (response.status !== 201) throw new Error(`snippet create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async function stored(postId: string): Promise<any> {
    return (await db.query(`SELECT * FROM posts WHERE id = $1`, [postId])).rows[0];
  }

  // ───────────────────────────── posts ─────────────────────────────
  describe('POST /community/posts', () => {
    it('publishes a post and answers its full shape (tags lowercased and deduplicated, title trimmed, language lowercased)', async () => {
      const body = {
        title: '  Fibonacci in one line  ',
        content: 'A **generator** version',
        code: 'print(1)',
        code_language: 'Python',
        tags: ['Python', 'python', ' Recursion ', 'PYTHON', 'c++'],
      };
      const response = await app.post('/community/posts', body, { token: alice.token });
      expect(response.status).toBe(201);
      expectPostShape(response.body, {
        title: 'Fibonacci in one line',
        content: 'A **generator** version',
        content_html: '<p>A <strong>generator</strong> version</p>\n',
        code: 'print(1)',
        code_language: 'python',
        snippet_id: null,
        tags: ['python', 'recursion', 'c++'],
        is_public: true,
        author: authorOf(alice),
        likes_count: 0,
        favorites_count: 0,
        comments_count: 0,
        views_count: 0,
        liked: false,
        favorited: false,
      });
      expect(response.body.created_at).toBe(response.body.updated_at);
      const row = await stored(response.body.id);
      expect(row).toMatchObject({ user_id: alice.id, title: 'Fibonacci in one line', tags: ['python', 'recursion', 'c++'], is_public: true });
    });

    it('defaults: no code, no language, no tags, public', async () => {
      const post = await createPost(alice.token, { title: 'Plain', content: 'plain' });
      expectPostShape(post, { code: null, code_language: null, snippet_id: null, tags: [], is_public: true, content_html: '<p>plain</p>\n' });
    });

    it('stores a private post', async () => {
      const post = await createPost(alice.token, { is_public: false });
      expect(post.is_public).toBe(false);
      expect((await stored(post.id)).is_public).toBe(false);
    });

    it.each([
      ['missing title', { content: 'x' }, ['title']],
      ['missing title and content', {}, ['title', 'content']],
      ['blank title', { title: '   ', content: 'x' }, ['title']],
      ['empty content', { title: 't', content: '' }, ['content']],
      ['too-long title', { title: 'x'.repeat(201), content: 'x' }, ['title']],
      ['a title with a line break', { title: 'one\ntwo', content: 'x' }, ['title']],
      ['a title with a bidi override', { title: 'evil\u202etxt.exe', content: 'x' }, ['title']],
      ['too-long content', { title: 't', content: 'x'.repeat(100_001) }, ['content']],
      ['too-long code_language', { title: 't', content: 'x', code_language: 'x'.repeat(31) }, ['code_language']],
      ['a tag with a space', { title: 't', content: 'x', tags: ['two words'] }, ['tags']],
      ['a tag starting with a symbol', { title: 't', content: 'x', tags: ['-dash'] }, ['tags']],
      ['an empty tag', { title: 't', content: 'x', tags: [''] }, ['tags']],
      ['a too-long tag', { title: 't', content: 'x', tags: ['x'.repeat(31)] }, ['tags']],
      ['more than 10 tags', { title: 't', content: 'x', tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }, ['tags']],
      ['tags not an array', { title: 't', content: 'x', tags: 'python' }, ['tags']],
      ['tags null', { title: 't', content: 'x', tags: null }, ['tags']],
      ['tags of numbers', { title: 't', content: 'x', tags: [1] }, ['tags']],
      ['a bad code_language', { title: 't', content: 'x', code_language: 'py thon' }, ['code_language']],
      ['a code_language with a slash', { title: 't', content: 'x', code_language: 'c/c++' }, ['code_language']],
      ['null is_public', { title: 't', content: 'x', is_public: null }, ['is_public']],
      ['is_public not a boolean', { title: 't', content: 'x', is_public: 'yes' }, ['is_public']],
      ['snippet_id not a UUID', { title: 't', content: 'x', snippet_id: 'abc' }, ['snippet_id']],
      ['empty code', { title: 't', content: 'x', code: '' }, ['code']],
      ['an unknown field', { title: 't', content: 'x', user_id: UNKNOWN_ID }, ['user_id']],
    ])('400 for %s', async (_name, body, fields) => {
      const before = (await db.query(`SELECT count(*)::int AS n FROM posts`)).rows[0].n;
      expectValidation(await app.post('/community/posts', body, { token: alice.token }), ...fields);
      expect((await db.query(`SELECT count(*)::int AS n FROM posts`)).rows[0].n).toBe(before);
    });

    describe('snippet_id', () => {
      it('my own snippet (private too): its code and language are copied when the post brings no code', async () => {
        const own = await snippet(alice.token, { code: 'console.log(42)', language: 'javascript', is_public: false });
        const post = await createPost(alice.token, { snippet_id: own.id });
        expectPostShape(post, { snippet_id: own.id, code: 'console.log(42)', code_language: 'javascript' });
      });

      it('my own snippet with code of the post\'s own: the post\'s code wins', async () => {
        const own = await snippet(alice.token, { code: 'print("snippet")' });
        const post = await createPost(alice.token, { snippet_id: own.id, code: 'print("post")' });
        expectPostShape(post, { snippet_id: own.id, code: 'print("post")', code_language: null });
        const withLanguage = await createPost(alice.token, { snippet_id: own.id, code: 'x = 1', code_language: 'ruby' });
        expectPostShape(withLanguage, { snippet_id: own.id, code: 'x = 1', code_language: 'ruby' });
      });

      it('another user\'s public snippet', async () => {
        const theirs = await snippet(bob.token, { code: 'print("bob")', is_public: true });
        const post = await createPost(alice.token, { snippet_id: theirs.id });
        expectPostShape(post, { snippet_id: theirs.id, code: 'print("bob")', code_language: 'python', author: authorOf(alice) });
      });

      it('404 for another user\'s private snippet, even for an admin', async () => {
        const theirs = await snippet(bob.token, { code: 'secret()', is_public: false });
        expectError(await app.post('/community/posts', { title: 't', content: 'x', snippet_id: theirs.id }, { token: alice.token }), 404, 'NOT_FOUND');
        expectError(await app.post('/community/posts', { title: 't', content: 'x', snippet_id: theirs.id }, { token: admin }), 404, 'NOT_FOUND');
        expect((await db.query(`SELECT count(*)::int AS n FROM posts WHERE snippet_id = $1`, [theirs.id])).rows[0].n).toBe(0);
      });

      it('404 for an unknown snippet', async () => {
        expectError(await app.post('/community/posts', { title: 't', content: 'x', snippet_id: UNKNOWN_ID }, { token: alice.token }), 404, 'NOT_FOUND');
      });
    });

    it('401 without credentials', async () => {
      expectError(await app.post('/community/posts', { title: 't', content: 'x' }), 401, 'UNAUTHORIZED');
      expectError(await app.get('/community/posts'), 401, 'UNAUTHORIZED');
      expectError(await app.get(`/community/posts/${UNKNOWN_ID}`), 401, 'UNAUTHORIZED');
      expectError(await app.post(`/community/posts/${UNKNOWN_ID}/like`), 401, 'UNAUTHORIZED');
      expectError(await app.post(`/community/follow/${alice.id}`), 401, 'UNAUTHORIZED');
      expectError(await app.get(`/users/${alice.id}/followers`), 401, 'UNAUTHORIZED');
    });

    it('403 for an API key: the community is for logged-in users (JWT) only', async () => {
      const created = await app.post('/api-keys', { name: 'community', scopes: ['code:read'] }, { token: carol.token });
      expect(created.status).toBe(201);
      const apiKey = created.body.key as string;
      const post = await createPost(alice.token);
      expectError(await app.post('/community/posts', { title: 't', content: 'x' }, { apiKey }), 403, 'FORBIDDEN');
      expectError(await app.get('/community/posts', { apiKey }), 403, 'FORBIDDEN');
      expectError(await app.get(`/community/posts/${post.id}`, { apiKey }), 403, 'FORBIDDEN');
      expectError(await app.post(`/community/posts/${post.id}/like`, undefined, { apiKey }), 403, 'FORBIDDEN');
      expectError(await app.post(`/community/posts/${post.id}/comments`, { content: 'x' }, { apiKey }), 403, 'FORBIDDEN');
      expectError(await app.post(`/community/follow/${alice.id}`, undefined, { apiKey }), 403, 'FORBIDDEN');
      expectError(await app.get('/community/favorites', { apiKey }), 403, 'FORBIDDEN');
      expect((await stored(post.id)).likes_count).toBe(0);
    });
  });

  describe('GET /community/posts/:id', () => {
    it('a public post for anyone; a private one for its author and admins only (others: 404)', async () => {
      const open = await createPost(alice.token, { title: 'Open' });
      const hidden = await createPost(alice.token, { title: 'Hidden', is_public: false });
      const seen = await app.get(`/community/posts/${open.id}`, { token: bob.token });
      expect(seen.status).toBe(200);
      expectPostShape(seen.body, { id: open.id, title: 'Open', author: authorOf(alice) });
      expectError(await app.get(`/community/posts/${hidden.id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expect((await app.get(`/community/posts/${hidden.id}`, { token: alice.token })).status).toBe(200);
      expect((await app.get(`/community/posts/${hidden.id}`, { token: admin })).status).toBe(200);
      expectError(await app.get(`/community/posts/${UNKNOWN_ID}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectValidation(await app.get('/community/posts/not-a-uuid', { token: bob.token }), 'id');
    });
  });

  describe('PUT /community/posts/:id', () => {
    it('the author changes the fields given; content_html is rendered again', async () => {
      const post = await createPost(alice.token, { title: 'Before', content: '# Old', code: 'x', code_language: 'python', tags: ['a'] });
      await sleep(5);
      const response = await app.put(`/community/posts/${post.id}`, { content: '## New *one*', tags: ['B', 'b', 'c'] }, { token: alice.token });
      expect(response.status).toBe(200);
      expectPostShape(response.body, {
        id: post.id, title: 'Before', content: '## New *one*', content_html: '<h2>New <em>one</em></h2>\n', code: 'x', code_language: 'python',
        tags: ['b', 'c'], author: authorOf(alice),
      });
      expect(response.body.created_at).toBe(post.created_at);
      expect(Date.parse(response.body.updated_at)).toBeGreaterThan(Date.parse(post.updated_at));
      expect((await stored(post.id)).content_html).toBe('<h2>New <em>one</em></h2>\n');

      const cleared = await app.put(`/community/posts/${post.id}`, { title: '  After ', code: null, code_language: null, is_public: false }, { token: alice.token });
      expect(cleared.status).toBe(200);
      expectPostShape(cleared.body, { title: 'After', code: null, code_language: null, is_public: false, content: '## New *one*' });
    });

    it('sets and clears snippet_id (mine or a public one; someone else\'s private one: 404)', async () => {
      const post = await createPost(alice.token);
      const theirs = await snippet(bob.token, { is_public: true });
      const secret = await snippet(bob.token, { is_public: false });
      const set = await app.put(`/community/posts/${post.id}`, { snippet_id: theirs.id }, { token: alice.token });
      expect(set.status).toBe(200);
      expect(set.body.snippet_id).toBe(theirs.id);
      expectError(await app.put(`/community/posts/${post.id}`, { snippet_id: secret.id }, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/community/posts/${post.id}`, { snippet_id: UNKNOWN_ID }, { token: alice.token }), 404, 'NOT_FOUND');
      const cleared = await app.put(`/community/posts/${post.id}`, { snippet_id: null }, { token: alice.token });
      expect(cleared.body.snippet_id).toBeNull();
    });

    it.each([
      ['null title', { title: null }, ['title']],
      ['null content', { content: null }, ['content']],
      ['empty content', { content: '' }, ['content']],
      ['null tags', { tags: null }, ['tags']],
      ['null is_public', { is_public: null }, ['is_public']],
      ['a bad tag', { tags: ['a b'] }, ['tags']],
      ['an unknown field', { likes_count: 100 }, ['likes_count']],
    ])('400 for %s', async (_name, body, fields) => {
      const post = await createPost(alice.token);
      expectValidation(await app.put(`/community/posts/${post.id}`, body, { token: alice.token }), ...fields);
    });

    it('403 for another user on a public post, 404 on a private one; 403 for an admin (the author only)', async () => {
      const open = await createPost(alice.token, { title: 'Mine' });
      const hidden = await createPost(alice.token, { title: 'Mine too', is_public: false });
      expectError(await app.put(`/community/posts/${open.id}`, { title: 'Hijacked' }, { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.put(`/community/posts/${hidden.id}`, { title: 'Hijacked' }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/community/posts/${open.id}`, { title: 'Moderated' }, { token: admin }), 403, 'FORBIDDEN');
      expectError(await app.put(`/community/posts/${hidden.id}`, { title: 'Moderated' }, { token: admin }), 403, 'FORBIDDEN');
      expectError(await app.put(`/community/posts/${UNKNOWN_ID}`, { title: 'x' }, { token: alice.token }), 404, 'NOT_FOUND');
      expect((await stored(open.id)).title).toBe('Mine');
      expect((await stored(hidden.id)).title).toBe('Mine too');
    });
  });

  describe('DELETE /community/posts/:id', () => {
    it('the author deletes a post with its comments, likes, favorites and views', async () => {
      const post = await createPost(alice.token);
      const top = await comment(bob.token, post.id, 'hi');
      await comment(alice.token, post.id, 'hello', top.id);
      expect((await app.post(`/community/posts/${post.id}/like`, undefined, { token: bob.token })).status).toBe(200);
      expect((await app.post(`/community/posts/${post.id}/favorite`, undefined, { token: bob.token })).status).toBe(200);
      expect((await app.post(`/community/comments/${top.id}/like`, undefined, { token: carol.token })).status).toBe(200);
      expect((await app.get(`/community/posts/${post.id}`, { token: bob.token })).status).toBe(200);

      const response = await app.delete(`/community/posts/${post.id}`, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });
      expectError(await app.get(`/community/posts/${post.id}`, { token: alice.token }), 404, 'NOT_FOUND');
      for (const table of ['posts', 'comments', 'post_likes', 'post_favorites', 'post_views']) {
        const column = table === 'posts' ? 'id' : 'post_id';
        expect((await db.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${column} = $1`, [post.id])).rows[0].n).toBe(0);
      }
      expect((await db.query(`SELECT count(*)::int AS n FROM comment_likes WHERE comment_id = $1`, [top.id])).rows[0].n).toBe(0);
      expectError(await app.delete(`/community/posts/${post.id}`, { token: alice.token }), 404, 'NOT_FOUND');
    });

    it('an admin deletes anyone\'s post, public or private (200)', async () => {
      const open = await createPost(alice.token);
      const hidden = await createPost(alice.token, { is_public: false });
      for (const post of [open, hidden]) {
        const response = await app.delete(`/community/posts/${post.id}`, { token: admin });
        expect(response.status).toBe(200);
        expect(response.body).toEqual({ success: true });
        expect(await stored(post.id)).toBeUndefined();
      }
    });

    it('403 for another user on a public post, 404 on a private one; 404 for an unknown post', async () => {
      const open = await createPost(alice.token);
      const hidden = await createPost(alice.token, { is_public: false });
      expectError(await app.delete(`/community/posts/${open.id}`, { token: bob.token }), 403, 'FORBIDDEN');
      expectError(await app.delete(`/community/posts/${hidden.id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/community/posts/${UNKNOWN_ID}`, { token: bob.token }), 404, 'NOT_FOUND');
      expect(await stored(open.id)).toBeDefined();
      expect(await stored(hidden.id)).toBeDefined();
    });
  });

  // ───────────────────────────── XSS ─────────────────────────────
  describe('content_html is sanitized', () => {
    /** Decodes HTML character references, as a browser does in attribute values. */
    function decodeEntities(text: string): string {
      const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", colon: ':', tab: '\t', newline: '\n', sol: '/', lpar: '(', rpar: ')' };
      let previous: string;
      let current = text;
      // Repeatedly: a double-encoded reference must not survive either.
      do {
        previous = current;
        current = current
          .replace(/&#x([0-9a-f]+);?/gi, (_m, hex) => String.fromCodePoint(parseInt(hex, 16)))
          .replace(/&#(\d+);?/g, (_m, dec) => String.fromCodePoint(parseInt(dec, 10)))
          .replace(/&([a-z]+);/gi, (m, name) => named[name.toLowerCase()] ?? m);
      } while (current !== previous);
      return current;
    }

    /** Without spaces and control characters, which browsers skip inside a URL's scheme (`java\tscript:`). */
    const withoutControls = (text: string) => [...text].filter((c) => c.charCodeAt(0) > 0x20).join('');

    /** The markup of the HTML (every tag with its attributes), without the text between tags. */
    const tagsOf = (html: string) => html.match(/<[^>]*>/g) ?? [];

    function expectSafe(html: string, options: { textMayMentionScheme?: boolean } = {}): void {
      expect(html).not.toMatch(/<script/i);
      expect(html).not.toMatch(/<iframe/i);
      expect(html).not.toMatch(/<style/i);
      expect(html).not.toMatch(/<object/i);
      expect(html).not.toMatch(/<embed/i);
      expect(html).not.toMatch(/<form/i);
      expect(html).not.toMatch(/<svg/i);
      expect(html).not.toMatch(/<math/i);
      expect(html).not.toMatch(/<base/i);
      expect(html).not.toMatch(/<meta/i);
      expect(html).not.toMatch(/<textarea/i);
      expect(html).not.toMatch(/<!--/);
      for (const tag of tagsOf(html)) {
        const markup = withoutControls(decodeEntities(tag));
        // No event handler attribute, no style, no dangerous scheme, in any tag.
        expect(tag).not.toMatch(/\son\w+\s*=/i);
        expect(tag).not.toMatch(/\sstyle\s*=/i);
        expect(markup).not.toMatch(/javascript:/i);
        expect(markup).not.toMatch(/vbscript:/i);
        expect(markup).not.toMatch(/data:/i);
        expect(markup).not.toMatch(/(src|href|action|formaction|xlink:href)=["']?\/\//i);
      }
      if (!options.textMayMentionScheme) {
        const all = withoutControls(decodeEntities(html));
        expect(all).not.toMatch(/javascript:/i);
        expect(all).not.toMatch(/data:/i);
      }
    }

    const PAYLOADS: Array<[string, string, string?]> = [
      ['a script tag', '<script>alert(1)</script>'],
      ['a script tag in Markdown text', 'Hello <script src="https://evil.example/x.js"></script> world'],
      ['an uppercase SCRIPT tag', '<SCRIPT>alert(1)</SCRIPT>'],
      ['img onerror', '<img src=x onerror=alert(1)>'],
      ['img onerror with a good src', '<img src="https://ok.example/a.png" onerror="alert(1)">'],
      ['svg onload', '<svg onload=alert(1)><circle/></svg>'],
      ['a javascript: link', '<a href="javascript:alert(1)">x</a>'],
      ['a JaVaScRiPt: link', '<a href="JaVaScRiPt:alert(1)">x</a>'],
      ['an entity-encoded javascript: link (decimal)', '<a href="&#106;avascript:alert(1)">x</a>'],
      ['an entity-encoded javascript: link (hex, &colon;)', '<a href="&#x6A;&#x61;vascript&colon;alert(1)">x</a>'],
      ['a javascript: link with a tab inside', '<a href="java\tscript:alert(1)">x</a>'],
      ['a javascript: link with leading spaces', '<a href="   javascript:alert(1)">x</a>'],
      ['a Markdown javascript: link', '[x](javascript:alert(1))'],
      ['a Markdown JaVaScRiPt: link', '[x](JaVaScRiPt:alert(1))'],
      ['a Markdown entity-encoded javascript: link', '[x](&#106;avascript:alert(1))'],
      ['a Markdown reference-style javascript: link', '[x][1]\n\n[1]: javascript:alert(1)'],
      ['a Markdown vbscript: link', '[x](vbscript:msgbox(1))'],
      ['a javascript: autolink', '<javascript:alert(1)>', 'text'],
      ['a data: image in Markdown', '![a](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)'],
      ['a data: img tag', '<img src="data:image/png;base64,iVBORw0KGgo=">'],
      ['a data: link', '<a href="data:text/html,<script>alert(1)</script>">d</a>'],
      ['a Markdown data: link', '[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
      ['a javascript: img src', '<img src="javascript:alert(1)">'],
      ['an iframe', '<iframe src="https://evil.example"></iframe>'],
      ['an iframe with srcdoc', '<iframe srcdoc="<script>alert(1)</script>"></iframe>'],
      ['a style tag', '<style>body{display:none}</style>'],
      ['a style attribute', '<div style="background:url(javascript:alert(1))">s</div>'],
      ['an object', '<object data="https://evil.example/x.swf"></object>'],
      ['an embed', '<embed src="https://evil.example/x.swf">'],
      ['a form with action', '<form action="https://evil.example"><input type="submit" formaction="javascript:alert(1)"></form>'],
      ['an input with onfocus', '<input type="text" onfocus="alert(1)" autofocus>'],
      ['onclick on an allowed tag', '<p onclick="alert(1)">hi</p>'],
      ['onmouseover on a link', '<a href="https://ok.example" onmouseover="alert(1)">ok</a>'],
      ['ontoggle on details', '<details open ontoggle=alert(1)><summary>s</summary></details>'],
      ['a script in an HTML comment', '<!--<script>alert(1)</script>-->'],
      ['a comment closed early', '<!--> <img src=x onerror=alert(1)> -->'],
      ['a comment trick in an attribute', '<p title="<!--"><img src=x onerror=alert(1)>-->'],
      ['math with xlink:href', '<math><mi xlink:href="javascript:alert(1)">m</mi></math>'],
      ['a base href', '<base href="javascript:/">'],
      ['a meta refresh', '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'],
      ['a script in a textarea', '<textarea><script>alert(1)</script></textarea>'],
      ['a noscript breakout', '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>'],
      ['a protocol-relative link', '<a href="//evil.example">p</a>'],
      ['a script in a table cell', '| a |\n|---|\n| <script>alert(1)</script> |'],
      ['an unclosed tag eating the rest', '<img src="x" onerror="alert(1)" <b>bold</b>'],
    ];

    it(`covers at least 15 payloads (${PAYLOADS.length})`, () => {
      expect(PAYLOADS.length).toBeGreaterThanOrEqual(15);
    });

    // A rest parameter: jest-each hands a test function with more parameters than the row a `done` callback.
    it.each(PAYLOADS)('%s', async (...row) => {
      const [, payload, text] = row;
      const post = await createPost(alice.token, { content: `Before\n\n${payload}\n\nAfter` });
      expectSafe(post.content_html, { textMayMentionScheme: text === 'text' });
      // The Markdown is kept as written; only the HTML is sanitized.
      expect(post.content).toBe(`Before\n\n${payload}\n\nAfter`);
      expect(post.content_html).toContain('Before');
      // The same on an update.
      const updated = await app.put(`/community/posts/${post.id}`, { content: payload }, { token: alice.token });
      expect(updated.status).toBe(200);
      expectSafe(updated.body.content_html, { textMayMentionScheme: text === 'text' });
    });

    it('keeps ordinary Markdown: headings, emphasis, code fences with their language, links, images, tables, lists, quotes', async () => {
      const markdown = [
        '# Title', '', '## Subtitle', '', 'Some **bold**, *italic*, `inline` and ~~gone~~ text.', '',
        '```python', 'print("hi") # <b>not bold</b>', '```', '',
        '[a link](https://example.com/page?x=1) and <https://example.org/auto> and [mail](mailto:me@example.com)', '',
        '![logo](https://example.com/logo.png "Logo")', '',
        '| a | b |', '|:--|--:|', '| 1 | 2 |', '',
        '- one', '- two', '', '1. first', '2. second', '', '- [x] done', '- [ ] todo', '', '> quoted', '', '---',
      ].join('\n');
      const post = await createPost(alice.token, { content: markdown });
      const html: string = post.content_html;
      expectSafe(html);
      expect(html).toContain('<h1>Title</h1>');
      expect(html).toContain('<h2>Subtitle</h2>');
      expect(html).toContain('<strong>bold</strong>');
      expect(html).toContain('<em>italic</em>');
      expect(html).toContain('<code>inline</code>');
      expect(html).toContain('<del>gone</del>');
      expect(html).toContain('<pre><code class="language-python">print("hi") # &lt;b&gt;not bold&lt;/b&gt;\n</code></pre>');
      expect(html).toContain(`<a href="https://example.com/page?x=1" rel="${REL}" target="_blank">a link</a>`);
      expect(html).toContain(`<a href="https://example.org/auto" rel="${REL}" target="_blank">https://example.org/auto</a>`);
      expect(html).toContain(`<a href="mailto:me@example.com" rel="${REL}" target="_blank">mail</a>`);
      expect(html).toContain('<img src="https://example.com/logo.png" alt="logo" title="Logo" />');
      expect(html).toMatch(/<table>\s*<thead>\s*<tr>\s*<th align="left">a<\/th>\s*<th align="right">b<\/th>\s*<\/tr>\s*<\/thead>\s*<tbody>\s*<tr>\s*<td align="left">1<\/td>\s*<td align="right">2<\/td>/);
      expect(html).toMatch(/<ul>\s*<li>one<\/li>\s*<li>two<\/li>\s*<\/ul>/);
      expect(html).toMatch(/<ol>\s*<li>first<\/li>\s*<li>second<\/li>\s*<\/ol>/);
      expect(html).toContain('<input type="checkbox" disabled checked /> done');
      expect(html).toContain('<input type="checkbox" disabled /> todo');
      expect(html).toMatch(/<blockquote>\s*<p>quoted<\/p>\s*<\/blockquote>/);
      expect(html).toContain('<hr />');
    });

    it('a link\'s own rel and target are replaced; a class other than language-* is dropped', async () => {
      const post = await createPost(alice.token, {
        content: '<a href="https://ok.example" rel="opener" target="_self">x</a>\n\n<code class="evil language-js">c</code>',
      });
      expect(post.content_html).toContain(`<a href="https://ok.example" rel="${REL}" target="_blank">x</a>`);
      expect(post.content_html).toContain('<code class="language-js">c</code>');
    });
  });

  // ───────────────────────────── listing ─────────────────────────────
  describe('GET /community/posts', () => {
    let dave: User;
    let erin: User;
    let tag: string;
    let davePublic: any;
    let davePrivate: any;
    let erinPublic: any;

    beforeAll(async () => {
      [dave, erin] = [await app.registerUser(), await app.registerUser()];
      tag = word('tag');
      davePublic = await createPost(dave.token, { title: 'Dave public', tags: [tag] });
      davePrivate = await createPost(dave.token, { title: 'Dave private', tags: [tag], is_public: false });
      erinPublic = await createPost(erin.token, { title: 'Erin public', tags: [tag] });
    });

    const ids = (body: any) => body.posts.map((post: any) => post.id);

    async function everything(token: string, query = ''): Promise<any[]> {
      const all: any[] = [];
      for (let page = 1; ; page++) {
        const response = await app.get(`/community/posts?limit=100&page=${page}${query}`, { token });
        expect(response.status).toBe(200);
        all.push(...response.body.posts);
        if (page >= response.body.pagination.pages) return all;
      }
    }

    it('lists public posts only, newest first, with the full shape; never a private one, not even the caller\'s own', async () => {
      const response = await app.get('/community/posts', { token: erin.token });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['pagination', 'posts']);
      response.body.posts.forEach((post: any) => expectPostShape(post, { is_public: true }));
      expect(response.body.posts[0]).toEqual({ ...erinPublic, created_at: erinPublic.created_at });
      for (const caller of [erin, dave]) {
        const all = await everything(caller.token);
        expect(all.every((post) => post.is_public)).toBe(true);
        expect(all.map((post) => post.id)).toContain(davePublic.id);
        expect(all.map((post) => post.id)).not.toContain(davePrivate.id);
        const created = all.map((post) => Date.parse(post.created_at));
        expect(created).toEqual([...created].sort((a, b) => b - a));
        expect(all.length).toBe((await db.query(`SELECT count(*)::int AS n FROM posts WHERE is_public`)).rows[0].n);
      }
    });

    it('author_id: someone else\'s public posts; all of mine (private too) when it is me; an admin sees all', async () => {
      const byOther = await app.get(`/community/posts?author_id=${dave.id}`, { token: erin.token });
      expect(ids(byOther.body)).toEqual([davePublic.id]);
      expect(byOther.body.pagination).toEqual({ total: 1, page: 1, limit: 20, pages: 1 });
      const byMe = await app.get(`/community/posts?author_id=${dave.id}`, { token: dave.token });
      expect(ids(byMe.body)).toEqual([davePrivate.id, davePublic.id]);
      expect(byMe.body.pagination.total).toBe(2);
      const byAdmin = await app.get(`/community/posts?author_id=${dave.id}`, { token: admin });
      expect(ids(byAdmin.body)).toEqual([davePrivate.id, davePublic.id]);
      const nobody = await app.get(`/community/posts?author_id=${UNKNOWN_ID}`, { token: erin.token });
      expect(nobody.body).toEqual({ posts: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
    });

    it('tag: case-insensitive, public only (my private one with author_id=me)', async () => {
      const response = await app.get(`/community/posts?tag=${tag.toUpperCase()}`, { token: dave.token });
      expect(ids(response.body)).toEqual([erinPublic.id, davePublic.id]);
      expect(response.body.pagination.total).toBe(2);
      const mine = await app.get(`/community/posts?tag=${tag}&author_id=${dave.id}`, { token: dave.token });
      expect(ids(mine.body)).toEqual([davePrivate.id, davePublic.id]);
      expect((await app.get(`/community/posts?tag=${word('none')}`, { token: dave.token })).body.posts).toEqual([]);
    });

    it('q: full text over title and content, whole words, every word must match', async () => {
      const [titleWord, contentWord, both] = [word('t'), word('c'), word('b')];
      const inTitle = await createPost(dave.token, { title: `The ${titleWord} story ${both}`, content: 'nothing here' });
      const inContent = await createPost(erin.token, { title: 'Another', content: `Deep in the **${contentWord}** text, ${both}.` });
      const hidden = await createPost(erin.token, { title: `${titleWord} hidden`, content: contentWord, is_public: false });
      const search = async (q: string) => {
        const response = await app.get(`/community/posts?q=${encodeURIComponent(q)}`, { token: carol.token });
        expect(response.status).toBe(200);
        return response.body;
      };
      expect(ids(await search(titleWord))).toEqual([inTitle.id]);
      expect(ids(await search(titleWord.toUpperCase()))).toEqual([inTitle.id]);
      expect(ids(await search(contentWord))).toEqual([inContent.id]);
      expect(ids(await search(both))).toEqual([inContent.id, inTitle.id]);
      expect(ids(await search(`${titleWord} ${both}`))).toEqual([inTitle.id]);
      // Whole words only: a prefix or a word with more letters finds nothing.
      expect(ids(await search(titleWord.slice(0, -2)))).toEqual([]);
      expect(ids(await search(`${titleWord}x`))).toEqual([]);
      // Every word must match.
      expect(ids(await search(`${titleWord} ${contentWord}`))).toEqual([]);
      const none = await search(word('absent'));
      expect(none).toEqual({ posts: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
      // The author finds their own private post with author_id=me.
      const own = await app.get(`/community/posts?q=${titleWord}&author_id=${erin.id}`, { token: erin.token });
      expect(ids(own.body)).toEqual([hidden.id]);
      // Punctuation in q is only text.
      expect((await search(`${both} & | ! ( ) :*`)).posts.length).toBe(2);
    });

    it('following=true: the public posts of the people I follow, and nobody else\'s', async () => {
      const reader = await app.registerUser();
      const feed = async () => {
        const response = await app.get('/community/posts?following=true', { token: reader.token });
        expect(response.status).toBe(200);
        return response.body;
      };
      expect(await feed()).toEqual({ posts: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
      expect((await app.post(`/community/follow/${dave.id}`, undefined, { token: reader.token })).body.following).toBe(true);
      const daves = (await app.get(`/community/posts?author_id=${dave.id}&limit=100`, { token: reader.token })).body.posts.map((p: any) => p.id);
      expect(ids(await feed())).toEqual(daves);
      expect(ids(await feed())).not.toContain(davePrivate.id);
      expect((await feed()).posts.every((post: any) => post.author.id === dave.id)).toBe(true);
      // following=false is the ordinary listing.
      expect((await app.get('/community/posts?following=false&limit=1', { token: reader.token })).body.pagination.total)
        .toBe((await db.query(`SELECT count(*)::int AS n FROM posts WHERE is_public`)).rows[0].n);
      // Filters combine.
      expect(ids((await app.get(`/community/posts?following=true&tag=${tag}`, { token: reader.token })).body)).toEqual([davePublic.id]);

      expect((await app.post(`/community/follow/${erin.id}`, undefined, { token: reader.token })).body.following).toBe(true);
      const both = ids((await app.get(`/community/posts?following=true&tag=${tag}`, { token: reader.token })).body);
      expect(both).toEqual([erinPublic.id, davePublic.id]);

      expect((await app.post(`/community/follow/${dave.id}`, undefined, { token: reader.token })).body.following).toBe(false);
      expect(ids((await app.get(`/community/posts?following=true&tag=${tag}`, { token: reader.token })).body)).toEqual([erinPublic.id]);
      expect((await app.post(`/community/follow/${erin.id}`, undefined, { token: reader.token })).body.following).toBe(false);
      expect((await feed()).posts).toEqual([]);
    });

    it('sort=popular: engagement weighs against age (an older post with likes above a newer one without)', async () => {
      const popularTag = word('pop');
      const older = await createPost(dave.token, { title: 'Older, liked', tags: [popularTag] });
      await sleep(20);
      const newer = await createPost(dave.token, { title: 'Newer, unliked', tags: [popularTag] });
      // Latest: the newer first.
      expect(ids((await app.get(`/community/posts?tag=${popularTag}`, { token: erin.token })).body)).toEqual([newer.id, older.id]);
      expect(ids((await app.get(`/community/posts?tag=${popularTag}&sort=latest`, { token: erin.token })).body)).toEqual([newer.id, older.id]);
      // Without engagement the newer is also the more popular.
      expect(ids((await app.get(`/community/posts?tag=${popularTag}&sort=popular`, { token: erin.token })).body)).toEqual([newer.id, older.id]);
      // Three likes on the older one outweigh a few milliseconds of freshness.
      for (const liker of [erin, carol, bob]) {
        expect((await app.post(`/community/posts/${older.id}/like`, undefined, { token: liker.token })).status).toBe(200);
      }
      const popular = await app.get(`/community/posts?tag=${popularTag}&sort=popular`, { token: erin.token });
      expect(ids(popular.body)).toEqual([older.id, newer.id]);
      expect(popular.body.posts[0]).toMatchObject({ likes_count: 3, liked: true });
      expect(ids((await app.get(`/community/posts?tag=${popularTag}&sort=latest`, { token: erin.token })).body)).toEqual([newer.id, older.id]);
      const [olderScore, newerScore] = [(await stored(older.id)).hot_score, (await stored(newer.id)).hot_score];
      expect(olderScore).toBeGreaterThan(newerScore);
      // …and more engagement on the newer one puts it first again.
      for (const liker of [erin, carol, bob, alice]) {
        expect((await app.post(`/community/posts/${newer.id}/like`, undefined, { token: liker.token })).status).toBe(200);
      }
      expect(ids((await app.get(`/community/posts?tag=${popularTag}&sort=popular`, { token: erin.token })).body)).toEqual([newer.id, older.id]);
    });

    it('pages: total, pages, distinct pages without duplicates, newest first', async () => {
      const pageTag = word('page');
      const created: any[] = [];
      for (let i = 0; i < 5; i++) created.push(await createPost(i % 2 ? dave.token : erin.token, { title: `Page ${i}`, tags: [pageTag] }));
      await createPost(dave.token, { title: 'Private, not counted', tags: [pageTag], is_public: false });
      const newestFirst = created.map((post) => post.id).reverse();
      const pages = [];
      for (const page of [1, 2, 3]) {
        const response = await app.get(`/community/posts?tag=${pageTag}&limit=2&page=${page}`, { token: carol.token });
        expect(response.status).toBe(200);
        expect(response.body.pagination).toEqual({ total: 5, page, limit: 2, pages: 3 });
        pages.push(ids(response.body));
      }
      expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
      expect(new Set(pages.flat()).size).toBe(5);
      expect(pages.flat()).toEqual(newestFirst);
      const past = await app.get(`/community/posts?tag=${pageTag}&limit=2&page=4`, { token: carol.token });
      expect(past.body).toEqual({ posts: [], pagination: { total: 5, page: 4, limit: 2, pages: 3 } });
      // Popular pages are distinct as well (ties broken by id).
      const popularPages = [];
      for (const page of [1, 2, 3]) popularPages.push(ids((await app.get(`/community/posts?tag=${pageTag}&limit=2&page=${page}&sort=popular`, { token: carol.token })).body));
      expect(new Set(popularPages.flat()).size).toBe(5);
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=101', 'limit'],
      ['page=0', 'page'],
      ['page=x', 'page'],
      ['sort=oldest', 'sort'],
      ['following=yes', 'following'],
      ['author_id=abc', 'author_id'],
      [`q=${'x'.repeat(201)}`, 'q'],
      [`tag=${'x'.repeat(31)}`, 'tag'],
      ['unknown=1', 'unknown'],
    ])('400 for ?%s', async (query, field) => {
      expectValidation(await app.get(`/community/posts?${query}`, { token: erin.token }), field);
    });

    it('liked and favorited are the caller\'s own', async () => {
      const flagTag = word('flag');
      const liked = await createPost(dave.token, { title: 'Liked', tags: [flagTag] });
      const favorited = await createPost(dave.token, { title: 'Favorited', tags: [flagTag] });
      const both = await createPost(dave.token, { title: 'Both', tags: [flagTag] });
      for (const [post, action] of [[liked, 'like'], [favorited, 'favorite'], [both, 'like'], [both, 'favorite']] as const) {
        expect((await app.post(`/community/posts/${post.id}/${action}`, undefined, { token: erin.token })).status).toBe(200);
      }
      const flags = (body: any) => Object.fromEntries(body.posts.map((post: any) => [post.title, [post.liked, post.favorited, post.likes_count, post.favorites_count]]));
      expect(flags((await app.get(`/community/posts?tag=${flagTag}`, { token: erin.token })).body)).toEqual({
        Liked: [true, false, 1, 0], Favorited: [false, true, 0, 1], Both: [true, true, 1, 1],
      });
      expect(flags((await app.get(`/community/posts?tag=${flagTag}`, { token: dave.token })).body)).toEqual({
        Liked: [false, false, 1, 0], Favorited: [false, false, 0, 1], Both: [false, false, 1, 1],
      });
      const one = await app.get(`/community/posts/${both.id}`, { token: erin.token });
      expect(one.body).toMatchObject({ liked: true, favorited: true });
    });

    it('like and favorite toggles answer the new state and count; unknown or hidden post: 404', async () => {
      const post = await createPost(dave.token);
      expect((await app.post(`/community/posts/${post.id}/like`, undefined, { token: erin.token })).body).toEqual({ liked: true, likes_count: 1 });
      expect((await app.post(`/community/posts/${post.id}/like`, undefined, { token: carol.token })).body).toEqual({ liked: true, likes_count: 2 });
      expect((await app.post(`/community/posts/${post.id}/like`, undefined, { token: erin.token })).body).toEqual({ liked: false, likes_count: 1 });
      expect((await app.post(`/community/posts/${post.id}/like`, undefined, { token: dave.token })).body).toEqual({ liked: true, likes_count: 2 });
      expect((await app.post(`/community/posts/${post.id}/favorite`, undefined, { token: erin.token })).body).toEqual({ favorited: true, favorites_count: 1 });
      expect((await app.post(`/community/posts/${post.id}/favorite`, undefined, { token: erin.token })).body).toEqual({ favorited: false, favorites_count: 0 });
      expect(await stored(post.id)).toMatchObject({ likes_count: 2, favorites_count: 0 });
      const hidden = await createPost(dave.token, { is_public: false });
      for (const action of ['like', 'favorite']) {
        expectError(await app.post(`/community/posts/${hidden.id}/${action}`, undefined, { token: erin.token }), 404, 'NOT_FOUND');
        expectError(await app.post(`/community/posts/${UNKNOWN_ID}/${action}`, undefined, { token: erin.token }), 404, 'NOT_FOUND');
        expectValidation(await app.post(`/community/posts/nope/${action}`, undefined, { token: erin.token }), 'id');
      }
      // The author likes their own private post.
      expect((await app.post(`/community/posts/${hidden.id}/like`, undefined, { token: dave.token })).body).toEqual({ liked: true, likes_count: 1 });
      expect((await stored(hidden.id)).likes_count).toBe(1);
    });

    it('GET /community/favorites: mine, most recently favorited first, only those I may still see', async () => {
      const fan = await app.registerUser();
      const [first, second, third] = [await createPost(dave.token), await createPost(erin.token), await createPost(dave.token)];
      for (const post of [second, first, third]) {
        expect((await app.post(`/community/posts/${post.id}/favorite`, undefined, { token: fan.token })).body.favorited).toBe(true);
        await sleep(5);
      }
      const response = await app.get('/community/favorites', { token: fan.token });
      expect(response.status).toBe(200);
      expect(ids(response.body)).toEqual([third.id, first.id, second.id]);
      expect(response.body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
      response.body.posts.forEach((post: any) => expectPostShape(post, { favorited: true, favorites_count: 1 }));
      const paged = await app.get('/community/favorites?limit=2&page=2', { token: fan.token });
      expect(ids(paged.body)).toEqual([second.id]);
      expect(paged.body.pagination).toEqual({ total: 3, page: 2, limit: 2, pages: 2 });
      // Made private by its author: no longer listed, nor counted.
      expect((await app.put(`/community/posts/${first.id}`, { is_public: false }, { token: dave.token })).status).toBe(200);
      const after = await app.get('/community/favorites', { token: fan.token });
      expect(ids(after.body)).toEqual([third.id, second.id]);
      expect(after.body.pagination.total).toBe(2);
      // Un-favorited: gone.
      expect((await app.post(`/community/posts/${third.id}/favorite`, undefined, { token: fan.token })).body.favorited).toBe(false);
      expect(ids((await app.get('/community/favorites', { token: fan.token })).body)).toEqual([second.id]);
      // Someone else's favorites are not mine.
      expect((await app.get('/community/favorites', { token: carol.token })).body.posts.map((p: any) => p.id)).not.toContain(second.id);
    });

    it('GET /users/:id/posts: the public ones for others (admins too), all of mine for me', async () => {
      const others = await app.get(`/users/${dave.id}/posts?limit=100`, { token: erin.token });
      expect(others.status).toBe(200);
      const visible = (await db.query(`SELECT id FROM posts WHERE user_id = $1 AND is_public ORDER BY created_at DESC, id DESC`, [dave.id])).rows.map((r) => r.id);
      const all = (await db.query(`SELECT id FROM posts WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, [dave.id])).rows.map((r) => r.id);
      expect(all.length).toBeGreaterThan(visible.length);
      expect(ids(others.body)).toEqual(visible);
      expect(others.body.pagination.total).toBe(visible.length);
      others.body.posts.forEach((post: any) => expectPostShape(post, { is_public: true, author: authorOf(dave) }));
      const mine = await app.get(`/users/${dave.id}/posts?limit=100`, { token: dave.token });
      expect(ids(mine.body)).toEqual(all);
      expect(mine.body.pagination.total).toBe(all.length);
      const asAdmin = await app.get(`/users/${dave.id}/posts?limit=100`, { token: admin });
      expect(ids(asAdmin.body)).toEqual(visible);
      const paged = await app.get(`/users/${dave.id}/posts?limit=2&page=2`, { token: erin.token });
      expect(ids(paged.body)).toEqual(visible.slice(2, 4));
      expectValidation(await app.get('/users/not-a-uuid/posts', { token: erin.token }), 'id');
    });
  });

  // ───────────────────────────── views ─────────────────────────────
  describe('views', () => {
    it('count once per user and hour; the author\'s own views never', async () => {
      const [author, viewer, other] = [await app.registerUser(), await app.registerUser(), await app.registerUser()];
      const post = await createPost(author.token);
      const viewsOf = async () => (await stored(post.id)).views_count;

      const first = await app.get(`/community/posts/${post.id}`, { token: viewer.token });
      expect(first.status).toBe(200);
      expect(first.body.views_count).toBe(1);
      expect(await viewsOf()).toBe(1);

      const again = await app.get(`/community/posts/${post.id}`, { token: viewer.token });
      expect(again.body.views_count).toBe(1);
      expect(await viewsOf()).toBe(1);

      for (let i = 0; i < 3; i++) expect((await app.get(`/community/posts/${post.id}`, { token: author.token })).body.views_count).toBe(1);
      expect(await viewsOf()).toBe(1);

      expect((await app.get(`/community/posts/${post.id}`, { token: other.token })).body.views_count).toBe(2);
      // Listings never count a view.
      await app.get(`/community/posts?author_id=${author.id}`, { token: viewer.token });
      await app.get(`/users/${author.id}/posts`, { token: viewer.token });
      expect(await viewsOf()).toBe(2);

      // An hour later the same viewer counts again (once).
      await db.query(`UPDATE post_views SET viewed_at = now() - interval '61 minutes' WHERE post_id = $1 AND user_id = $2`, [post.id, viewer.id]);
      expect((await app.get(`/community/posts/${post.id}`, { token: viewer.token })).body.views_count).toBe(3);
      expect((await app.get(`/community/posts/${post.id}`, { token: viewer.token })).body.views_count).toBe(3);
      // 59 minutes is not an hour.
      await db.query(`UPDATE post_views SET viewed_at = now() - interval '59 minutes' WHERE post_id = $1 AND user_id = $2`, [post.id, other.id]);
      expect((await app.get(`/community/posts/${post.id}`, { token: other.token })).body.views_count).toBe(3);
      expect(await viewsOf()).toBe(3);
      expect((await db.query(`SELECT count(*)::int AS n FROM post_views WHERE post_id = $1`, [post.id])).rows[0].n).toBe(2);
    });

    it('another user\'s private post: 404 and no view counted', async () => {
      const [author, viewer] = [await app.registerUser(), await app.registerUser()];
      const post = await createPost(author.token, { is_public: false });
      expectError(await app.get(`/community/posts/${post.id}`, { token: viewer.token }), 404, 'NOT_FOUND');
      expect((await stored(post.id)).views_count).toBe(0);
      expect((await db.query(`SELECT count(*)::int AS n FROM post_views WHERE post_id = $1`, [post.id])).rows[0].n).toBe(0);
    });
  });

  // ───────────────────────────── comments ─────────────────────────────
  describe('comments', () => {
    let author: User;
    let reader: User;
    let post: any;
    let other: any;

    beforeAll(async () => {
      [author, reader] = [await app.registerUser(), await app.registerUser()];
      post = await createPost(author.token, { title: 'Discuss' });
      other = await createPost(author.token, { title: 'Elsewhere' });
    });

    const commentsOf = async (postId: string, token = reader.token, query = '') => {
      const response = await app.get(`/community/posts/${postId}/comments${query}`, { token });
      expect(response.status).toBe(200);
      return response.body;
    };

    it('creates a top-level comment and a reply, with their full shape', async () => {
      const created = await app.post(`/community/posts/${post.id}/comments`, { content: 'First!' }, { token: reader.token });
      expect(created.status).toBe(201);
      expectCommentShape(created.body, {
        post_id: post.id, parent_id: null, depth: 0, author: authorOf(reader), content: 'First!', deleted: false, likes_count: 0, liked: false,
      });
      expect(created.body.created_at).toBe(created.body.updated_at);
      const reply = await app.post(`/community/posts/${post.id}/comments`, { content: 'Thanks', parent_id: created.body.id }, { token: author.token });
      expect(reply.status).toBe(201);
      expectCommentShape(reply.body, { post_id: post.id, parent_id: created.body.id, depth: 1, author: authorOf(author), content: 'Thanks', deleted: false });
      const nested = await comment(reader.token, post.id, 'Welcome', reply.body.id);
      expectCommentShape(nested, { parent_id: reply.body.id, depth: 2 });
      const rows = (await db.query(`SELECT id, root_id, depth FROM comments WHERE id = ANY($1) ORDER BY depth`, [[created.body.id, reply.body.id, nested.id]])).rows;
      expect(rows.map((r) => r.root_id)).toEqual([created.body.id, created.body.id, created.body.id]);
      expect((await stored(post.id)).comments_count).toBe(3);
    });

    it('comments are plain text: stored and answered as written', async () => {
      const text = '<script>alert(1)</script> **not markdown**';
      const created = await comment(reader.token, other.id, text);
      expect(created.content).toBe(text);
    });

    it('400: a parent of another post, an unknown parent, bad input', async () => {
      const elsewhere = await comment(reader.token, other.id, 'over there');
      const before = (await stored(post.id)).comments_count;
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, { content: 'x', parent_id: elsewhere.id }, { token: reader.token }), 'parent_id');
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, { content: 'x', parent_id: UNKNOWN_ID }, { token: reader.token }), 'parent_id');
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, { content: 'x', parent_id: 'abc' }, { token: reader.token }), 'parent_id');
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, { content: 'x', parent_id: null }, { token: reader.token }), 'parent_id');
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, { content: '' }, { token: reader.token }), 'content');
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, {}, { token: reader.token }), 'content');
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, { content: 'x'.repeat(10_001) }, { token: reader.token }), 'content');
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, { content: 5 }, { token: reader.token }), 'content');
      expectValidation(await app.post(`/community/posts/${post.id}/comments`, { content: 'x', depth: 3 }, { token: reader.token }), 'depth');
      expect((await stored(post.id)).comments_count).toBe(before);
      expectError(await app.post(`/community/posts/${UNKNOWN_ID}/comments`, { content: 'x' }, { token: reader.token }), 404, 'NOT_FOUND');
    });

    it('the tree: top-level comments oldest first, each with its replies nested; total counts top-level ones only', async () => {
      const thread = await createPost(author.token, { title: 'Tree' });
      const a = await comment(reader.token, thread.id, 'A');
      const b = await comment(author.token, thread.id, 'B');
      const a1 = await comment(author.token, thread.id, 'A1', a.id);
      const a2 = await comment(reader.token, thread.id, 'A2', a.id);
      const a1x = await comment(reader.token, thread.id, 'A1x', a1.id);
      const c = await comment(reader.token, thread.id, 'C');
      const b1 = await comment(reader.token, thread.id, 'B1', b.id);

      const body = await commentsOf(thread.id);
      expect(Object.keys(body).sort()).toEqual(['comments', 'pagination']);
      expect(body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
      const shape = (nodes: any[]): any[] => nodes.map((node) => [node.content, shape(node.replies)]);
      expect(shape(body.comments)).toEqual([
        ['A', [['A1', [['A1x', []]]], ['A2', []]]],
        ['B', [['B1', []]]],
        ['C', []],
      ]);
      const [first] = body.comments;
      expect(Object.keys(first).sort()).toEqual([...COMMENT_FIELDS, 'replies'].sort());
      expectCommentShape(Object.fromEntries(Object.entries(first).filter(([key]) => key !== 'replies')), {
        id: a.id, post_id: thread.id, parent_id: null, depth: 0, author: authorOf(reader),
      });
      expect(first.replies[0]).toMatchObject({ id: a1.id, parent_id: a.id, depth: 1, author: authorOf(author) });
      expect(first.replies[0].replies[0]).toMatchObject({ id: a1x.id, parent_id: a1.id, depth: 2 });
      expect(first.replies[1].id).toBe(a2.id);
      expect(body.comments[1].replies[0].id).toBe(b1.id);
      expect(body.comments[2].id).toBe(c.id);
      expect((await stored(thread.id)).comments_count).toBe(7);
      expect((await app.get(`/community/posts/${thread.id}`, { token: reader.token })).body.comments_count).toBe(7);

      // Pages of top-level comments, each with its whole thread.
      const second = await commentsOf(thread.id, reader.token, '?limit=2&page=2');
      expect(second.pagination).toEqual({ total: 3, page: 2, limit: 2, pages: 2 });
      expect(shape(second.comments)).toEqual([['C', []]]);
      const firstPage = await commentsOf(thread.id, reader.token, '?limit=2');
      expect(shape(firstPage.comments).map(([content]) => content)).toEqual(['A', 'B']);
      const past = await commentsOf(thread.id, reader.token, '?limit=2&page=5');
      expect(past).toEqual({ comments: [], pagination: { total: 3, page: 5, limit: 2, pages: 2 } });
      const empty = await commentsOf((await createPost(author.token)).id);
      expect(empty).toEqual({ comments: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
      expectValidation(await app.get(`/community/posts/${thread.id}/comments?limit=101`, { token: reader.token }), 'limit');
    });

    it('a thread 50 levels deep comes back whole, nested', async () => {
      const deep = await createPost(author.token, { title: 'Deep' });
      const root = await comment(reader.token, deep.id, 'level 0');
      let parent = root;
      for (let depth = 1; depth <= 50; depth++) {
        parent = await comment(depth % 2 ? author.token : reader.token, deep.id, `level ${depth}`, parent.id);
        expect(parent.depth).toBe(depth);
      }
      const body = await commentsOf(deep.id);
      expect(body.pagination.total).toBe(1);
      let node = body.comments[0];
      for (let depth = 0; depth <= 50; depth++) {
        expect(node).toMatchObject({ depth, content: `level ${depth}`, deleted: false });
        expect(node.author.id).toBe(depth % 2 ? author.id : reader.id);
        if (depth < 50) {
          expect(node.replies).toHaveLength(1);
          expect(node.replies[0].parent_id).toBe(node.id);
          node = node.replies[0];
        }
      }
      expect(node.replies).toEqual([]);
      expect((await stored(deep.id)).comments_count).toBe(51);
    });

    it('edit: the author only (others and admins 403); new text and updated_at', async () => {
      const mine = await comment(reader.token, post.id, 'tpyo');
      await sleep(5);
      const edited = await app.put(`/community/comments/${mine.id}`, { content: 'typo' }, { token: reader.token });
      expect(edited.status).toBe(200);
      expectCommentShape(edited.body, { id: mine.id, content: 'typo', author: authorOf(reader), created_at: mine.created_at, deleted: false });
      expect(Date.parse(edited.body.updated_at)).toBeGreaterThan(Date.parse(mine.updated_at));
      expectError(await app.put(`/community/comments/${mine.id}`, { content: 'mine now' }, { token: author.token }), 403, 'FORBIDDEN');
      expectError(await app.put(`/community/comments/${mine.id}`, { content: 'moderated' }, { token: admin }), 403, 'FORBIDDEN');
      expectError(await app.put(`/community/comments/${UNKNOWN_ID}`, { content: 'x' }, { token: reader.token }), 404, 'NOT_FOUND');
      expectValidation(await app.put(`/community/comments/${mine.id}`, { content: '' }, { token: reader.token }), 'content');
      expectValidation(await app.put(`/community/comments/${mine.id}`, { content: 'x', parent_id: UNKNOWN_ID }, { token: reader.token }), 'parent_id');
      expect((await db.query(`SELECT content FROM comments WHERE id = $1`, [mine.id])).rows[0].content).toBe('typo');
    });

    it('delete by the author or an admin: "[deleted]" without author, replies kept, comments_count down; then 404 for edit, like, delete', async () => {
      const thread = await createPost(author.token, { title: 'Deleting' });
      const top = await comment(reader.token, thread.id, 'top');
      const reply = await comment(author.token, thread.id, 'reply', top.id);
      const replyReply = await comment(reader.token, thread.id, 'reply to reply', reply.id);
      const sibling = await comment(author.token, thread.id, 'sibling');
      expect((await stored(thread.id)).comments_count).toBe(4);

      expectError(await app.delete(`/community/comments/${top.id}`, { token: author.token }), 403, 'FORBIDDEN');
      const removed = await app.delete(`/community/comments/${top.id}`, { token: reader.token });
      expect(removed.status).toBe(200);
      expect(removed.body).toEqual({ success: true });
      expect((await stored(thread.id)).comments_count).toBe(3);

      // An admin deletes someone else's comment.
      const moderated = await app.delete(`/community/comments/${replyReply.id}`, { token: admin });
      expect(moderated.status).toBe(200);
      expect((await stored(thread.id)).comments_count).toBe(2);
      expect((await app.get(`/community/posts/${thread.id}`, { token: reader.token })).body.comments_count).toBe(2);

      const body = await commentsOf(thread.id);
      expect(body.pagination.total).toBe(2);
      const [gone, kept] = body.comments;
      expect(gone).toMatchObject({ id: top.id, deleted: true, author: null, content: '[deleted]', depth: 0 });
      expect(gone.replies[0]).toMatchObject({ id: reply.id, deleted: false, content: 'reply', author: authorOf(author) });
      expect(gone.replies[0].replies[0]).toMatchObject({ id: replyReply.id, deleted: true, author: null, content: '[deleted]', replies: [] });
      expect(kept).toMatchObject({ id: sibling.id, deleted: false });
      // The text is erased from the database, not only hidden.
      expect((await db.query(`SELECT content, deleted_at FROM comments WHERE id = $1`, [top.id])).rows[0]).toMatchObject({ content: '' });

      for (const id of [top.id, replyReply.id]) {
        expectError(await app.put(`/community/comments/${id}`, { content: 'back' }, { token: reader.token }), 404, 'NOT_FOUND');
        expectError(await app.post(`/community/comments/${id}/like`, undefined, { token: reader.token }), 404, 'NOT_FOUND');
        expectError(await app.delete(`/community/comments/${id}`, { token: reader.token }), 404, 'NOT_FOUND');
        expectError(await app.delete(`/community/comments/${id}`, { token: admin }), 404, 'NOT_FOUND');
      }
      expect((await stored(thread.id)).comments_count).toBe(2);
      expectError(await app.delete(`/community/comments/${UNKNOWN_ID}`, { token: reader.token }), 404, 'NOT_FOUND');

      // A reply to a deleted comment is still possible and counts.
      const late = await comment(author.token, thread.id, 'late reply', top.id);
      expect(late.depth).toBe(1);
      expect((await stored(thread.id)).comments_count).toBe(3);
    });

    it('comment likes toggle {liked, likes_count}; liked is the caller\'s in the tree', async () => {
      const target = await comment(author.token, post.id, 'like me');
      const like = async (user: User) => {
        const response = await app.post(`/community/comments/${target.id}/like`, undefined, { token: user.token });
        expect(response.status).toBe(200);
        return response.body;
      };
      expect(await like(reader)).toEqual({ liked: true, likes_count: 1 });
      expect(await like(carol)).toEqual({ liked: true, likes_count: 2 });
      expect(await like(author)).toEqual({ liked: true, likes_count: 3 });
      expect(await like(carol)).toEqual({ liked: false, likes_count: 2 });
      const find = (body: any) => body.comments.find((c: any) => c.id === target.id) ?? body.comments.flatMap((c: any) => c.replies).find((c: any) => c.id === target.id);
      const all = await commentsOf(post.id, reader.token, '?limit=100');
      expect(find(all)).toMatchObject({ liked: true, likes_count: 2 });
      expect(find(await commentsOf(post.id, carol.token, '?limit=100'))).toMatchObject({ liked: false, likes_count: 2 });
      expect((await db.query(`SELECT likes_count FROM comments WHERE id = $1`, [target.id])).rows[0].likes_count).toBe(2);
      expectError(await app.post(`/community/comments/${UNKNOWN_ID}/like`, undefined, { token: reader.token }), 404, 'NOT_FOUND');
    });

    it('another user\'s private post: its comments are 404 (list, create, edit, like, delete); its author and admins see them', async () => {
      const hidden = await createPost(author.token, { is_public: false });
      const own = await comment(author.token, hidden.id, 'note to self');
      expectError(await app.get(`/community/posts/${hidden.id}/comments`, { token: reader.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/community/posts/${hidden.id}/comments`, { content: 'x' }, { token: reader.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/community/posts/${hidden.id}/comments`, { content: 'x', parent_id: own.id }, { token: reader.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/community/comments/${own.id}`, { content: 'x' }, { token: reader.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/community/comments/${own.id}/like`, undefined, { token: reader.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/community/comments/${own.id}`, { token: reader.token }), 404, 'NOT_FOUND');
      expectError(await app.get(`/community/posts/${UNKNOWN_ID}/comments`, { token: reader.token }), 404, 'NOT_FOUND');
      expect((await commentsOf(hidden.id, author.token)).comments.map((c: any) => c.id)).toEqual([own.id]);
      expect((await commentsOf(hidden.id, admin)).comments.map((c: any) => c.id)).toEqual([own.id]);
      // A post made private later hides its comments too.
      const later = await createPost(author.token);
      const theirs = await comment(reader.token, later.id, 'visible for now');
      expect((await app.put(`/community/posts/${later.id}`, { is_public: false }, { token: author.token })).status).toBe(200);
      expectError(await app.put(`/community/comments/${theirs.id}`, { content: 'edit' }, { token: reader.token }), 404, 'NOT_FOUND');
      expectError(await app.get(`/community/posts/${later.id}/comments`, { token: reader.token }), 404, 'NOT_FOUND');
    });

    it('a deleted account\'s comments stay, without author', async () => {
      const leaver = await app.registerUser();
      const thread = await createPost(author.token);
      const left = await comment(leaver.token, thread.id, 'bye');
      await db.query(`DELETE FROM users WHERE id = $1`, [leaver.id]);
      const body = await commentsOf(thread.id);
      expect(body.comments[0]).toMatchObject({ id: left.id, author: null, content: 'bye', deleted: false });
    });

    describe('one page of comments costs a constant number of SQL statements', () => {
      /**
       * Counts the statements the app's connections send while `run` is in flight
       * (pg.Client#query; the app runs in this process). The test's own
       * connections are left out.
       */
      async function statementsDuring(run: () => Promise<unknown>): Promise<{ count: number; texts: string[] }> {
        const pg = require('pg') as typeof import('pg');
        const original = pg.Client.prototype.query;
        const texts: string[] = [];
        const ours = new Set<unknown>([db]);
        pg.Client.prototype.query = function (this: unknown, ...args: unknown[]) {
          if (!ours.has(this)) {
            const config = args[0] as string | { text?: string };
            texts.push(typeof config === 'string' ? config : String(config?.text));
          }
          return (original as (...a: unknown[]) => unknown).apply(this, args);
        } as typeof original;
        try {
          await run();
        } finally {
          pg.Client.prototype.query = original;
        }
        return { count: texts.length, texts };
      }

      /**
       * Waits until the app sends no statement for a while: the writes that trail the set-up
       * (audit rows, notifications of likes) would otherwise be counted with the listing.
       */
      async function quiet(): Promise<void> {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const { count } = await statementsDuring(() => new Promise((resolve) => setTimeout(resolve, 300)));
          if (count === 0) return;
          if (Date.now() > deadline) throw new Error('the app never went quiet');
        }
      }

      async function measured(postId: string, token: string): Promise<{ count: number; texts: string[]; body: any }> {
        let body: any;
        // Warm the caches (session, plan) first: only the listing itself is measured.
        expect((await app.get(`/community/posts/${postId}/comments`, { token })).status).toBe(200);
        await quiet();
        const { count, texts } = await statementsDuring(async () => {
          const response = await app.get(`/community/posts/${postId}/comments`, { token });
          expect(response.status).toBe(200);
          body = response.body;
        });
        return { count, texts, body };
      }

      it('the same small count for a small tree and for 300 comments in a deep and wide tree', async () => {
        const users = [author, reader, await app.registerUser(), await app.registerUser()];
        const small = await createPost(author.token, { title: 'Small' });
        const s1 = await comment(reader.token, small.id, 's1');
        await comment(author.token, small.id, 's1a', s1.id);
        await comment(reader.token, small.id, 's2');

        // 300 comments: 10 top-level threads; one a chain 100 deep, one with 102 direct replies,
        // the rest with 11 replies each spread over two levels; written by four users, some liked.
        const big = await createPost(author.token, { title: 'Big' });
        const tops: any[] = [];
        for (let i = 0; i < 10; i++) tops.push(await comment(users[i % 4].token, big.id, `top ${i}`));
        let chain = tops[0];
        for (let d = 1; d <= 100; d++) chain = await comment(users[d % 4].token, big.id, `chain ${d}`, chain.id);
        await Promise.all(Array.from({ length: 102 }, (_, i) => comment(users[i % 4].token, big.id, `wide ${i}`, tops[1].id)));
        for (let t = 2; t < 10; t++) {
          const mids = await Promise.all(Array.from({ length: 5 }, (_, i) => comment(users[i % 4].token, big.id, `mid ${t}.${i}`, tops[t].id)));
          await Promise.all(Array.from({ length: 6 }, (_, i) => comment(users[(i + 1) % 4].token, big.id, `leaf ${t}.${i}`, mids[i % 5].id)));
        }
        await Promise.all(tops.slice(0, 5).map((top) => app.post(`/community/comments/${top.id}/like`, undefined, { token: reader.token })));
        expect((await db.query(`SELECT count(*)::int AS n FROM comments WHERE post_id = $1`, [big.id])).rows[0].n).toBe(300);
        expect((await stored(big.id)).comments_count).toBe(300);

        const smallRun = await measured(small.id, reader.token);
        const bigRun = await measured(big.id, reader.token);
        expect(smallRun.body.pagination.total).toBe(2);
        expect(bigRun.body.pagination.total).toBe(10);
        let returned = 0;
        const walk = (nodes: any[]) => nodes.forEach((node) => { returned++; walk(node.replies); });
        walk(bigRun.body.comments);
        expect(returned).toBe(300);
        expect(bigRun.body.comments.slice(0, 5).every((c: any) => c.liked)).toBe(true);

        expect(smallRun.count).toBeGreaterThan(0); // the spy does see the app's statements
        expect(smallRun.count).toBeLessThanOrEqual(5);
        expect(bigRun.count).toBe(smallRun.count);
        expect(bigRun.texts.map((t) => t.replace(/\s+/g, ' '))).toEqual(smallRun.texts.map((t) => t.replace(/\s+/g, ' ')));
      });
    });
  });

  // ───────────────────────────── follows ─────────────────────────────
  describe('follows', () => {
    let fan: User;
    let star: User;
    let third: User;

    beforeAll(async () => {
      [fan, star, third] = [await app.registerUser(), await app.registerUser(), await app.registerUser()];
    });

    const follow = async (who: User | string, whom: User) => {
      const response = await app.post(`/community/follow/${whom.id}`, undefined, { token: typeof who === 'string' ? who : who.token });
      expect(response.status).toBe(200);
      return response.body;
    };

    it('toggles {following, followers_count}', async () => {
      expect(await follow(fan, star)).toEqual({ following: true, followers_count: 1 });
      expect(await follow(third, star)).toEqual({ following: true, followers_count: 2 });
      expect(await follow(fan, star)).toEqual({ following: false, followers_count: 1 });
      expect(await follow(fan, star)).toEqual({ following: true, followers_count: 2 });
      const counts = (await db.query(`SELECT followers_count, following_count FROM follow_counts WHERE user_id = $1`, [star.id])).rows[0];
      expect(counts).toEqual({ followers_count: 2, following_count: 0 });
      expect((await db.query(`SELECT following_count FROM follow_counts WHERE user_id = $1`, [fan.id])).rows[0].following_count).toBe(1);
    });

    it('400 for following myself, 404 for an unknown user, 400 for a bad id', async () => {
      expectValidation(await app.post(`/community/follow/${fan.id}`, undefined, { token: fan.token }), 'user_id');
      expectError(await app.post(`/community/follow/${UNKNOWN_ID}`, undefined, { token: fan.token }), 404, 'NOT_FOUND');
      expectValidation(await app.post('/community/follow/someone', undefined, { token: fan.token }), 'user_id');
      expect((await db.query(`SELECT count(*)::int AS n FROM follows WHERE follower_id = $1 AND followee_id = $1`, [fan.id])).rows[0].n).toBe(0);
    });

    it('a deleted user cannot be followed (404)', async () => {
      const gone = await app.registerUser();
      await db.query(`UPDATE users SET status = 'deleted' WHERE id = $1`, [gone.id]);
      expectError(await app.post(`/community/follow/${gone.id}`, undefined, { token: fan.token }), 404, 'NOT_FOUND');
    });

    it('GET /users/:id/followers and /following: most recent first, with my own following flag', async () => {
      const [a, b, c, target] = [await app.registerUser(), await app.registerUser(), await app.registerUser(), await app.registerUser()];
      for (const who of [a, b, c]) {
        await follow(who, target);
        await sleep(5);
      }
      await follow(target, a);
      await follow(target, b);
      // The caller (a) follows b: the flag says so.
      await follow(a, b);

      const followers = await app.get(`/users/${target.id}/followers`, { token: a.token });
      expect(followers.status).toBe(200);
      expect(Object.keys(followers.body).sort()).toEqual(['pagination', 'users']);
      expect(followers.body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
      followers.body.users.forEach((user: any) => {
        expect(Object.keys(user).sort()).toEqual(FOLLOW_USER_FIELDS);
        expect(user.followed_at).toMatch(ISO);
      });
      expect(followers.body.users.map((u: any) => [u.username, u.following])).toEqual([[c.username, false], [b.username, true], [a.username, false]]);
      expect(followers.body.users[0]).toMatchObject({ id: c.id, name: null, avatar_url: null });

      const following = await app.get(`/users/${target.id}/following`, { token: a.token });
      expect(following.body.users.map((u: any) => u.id)).toEqual([b.id, a.id]);
      expect(following.body.pagination).toEqual({ total: 2, page: 1, limit: 20, pages: 1 });

      const paged = await app.get(`/users/${target.id}/followers?limit=2&page=2`, { token: a.token });
      expect(paged.body.users.map((u: any) => u.id)).toEqual([a.id]);
      expect(paged.body.pagination).toEqual({ total: 3, page: 2, limit: 2, pages: 2 });

      // A name shows for public profiles.
      await db.query(`UPDATE users SET name = 'Bee' WHERE id = $1`, [b.id]);
      expect((await app.get(`/users/${target.id}/followers`, { token: c.token })).body.users[1]).toMatchObject({ id: b.id, name: 'Bee', following: false });

      const theirs = await app.get(`/users/${a.id}/following`, { token: third.token });
      expect(theirs.body.users.map((u: any) => [u.id, u.following])).toEqual([[b.id, false], [target.id, false]]);
      expectError(await app.get(`/users/${UNKNOWN_ID}/followers`, { token: a.token }), 404, 'NOT_FOUND');
      expectError(await app.get(`/users/${UNKNOWN_ID}/following`, { token: a.token }), 404, 'NOT_FOUND');
      expectValidation(await app.get(`/users/${target.id}/followers?limit=500`, { token: a.token }), 'limit');
    });

    it('GET /users/:id/follow-status: {following, followed_by}', async () => {
      const [x, y] = [await app.registerUser(), await app.registerUser()];
      const status = async (from: User, to: User) => {
        const response = await app.get(`/users/${to.id}/follow-status`, { token: from.token });
        expect(response.status).toBe(200);
        return response.body;
      };
      expect(await status(x, y)).toEqual({ following: false, followed_by: false });
      await follow(x, y);
      expect(await status(x, y)).toEqual({ following: true, followed_by: false });
      expect(await status(y, x)).toEqual({ following: false, followed_by: true });
      await follow(y, x);
      expect(await status(x, y)).toEqual({ following: true, followed_by: true });
      expect(await status(x, x)).toEqual({ following: false, followed_by: false });
      expectError(await app.get(`/users/${UNKNOWN_ID}/follow-status`, { token: x.token }), 404, 'NOT_FOUND');
    });

    it('a private profile: its lists answer 403 to others, 200 to the user and to admins; its name is hidden from others', async () => {
      const [shy, watcher, friend] = [await app.registerUser(), await app.registerUser(), await app.registerUser()];
      await follow(friend, shy);
      await follow(shy, friend);
      await db.query(`UPDATE users SET is_public = false, name = 'Secret Name' WHERE id = $1`, [shy.id]);
      for (const side of ['followers', 'following']) {
        expectError(await app.get(`/users/${shy.id}/${side}`, { token: watcher.token }), 403, 'FORBIDDEN');
        expectError(await app.get(`/users/${shy.id}/${side}`, { token: friend.token }), 403, 'FORBIDDEN');
        const own = await app.get(`/users/${shy.id}/${side}`, { token: shy.token });
        expect(own.status).toBe(200);
        expect(own.body.users.map((u: any) => u.id)).toEqual([friend.id]);
        const byAdmin = await app.get(`/users/${shy.id}/${side}`, { token: admin });
        expect(byAdmin.status).toBe(200);
        expect(byAdmin.body.users.map((u: any) => u.id)).toEqual([friend.id]);
      }
      // Following a private profile still works, and it shows in the follower's public list, nameless.
      expect(await follow(watcher, shy)).toEqual({ following: true, followers_count: 2 });
      const friendsFollowers = await app.get(`/users/${friend.id}/followers`, { token: watcher.token });
      expect(friendsFollowers.body.users).toEqual([expect.objectContaining({ id: shy.id, name: null })]);
      const asAdmin = await app.get(`/users/${friend.id}/followers`, { token: admin });
      expect(asAdmin.body.users).toEqual([expect.objectContaining({ id: shy.id, name: 'Secret Name' })]);
      const asSelf = await app.get(`/users/${friend.id}/followers`, { token: shy.token });
      expect(asSelf.body.users).toEqual([expect.objectContaining({ id: shy.id, name: 'Secret Name' })]);
      // Follow status is not a list: it stays available.
      expect((await app.get(`/users/${shy.id}/follow-status`, { token: watcher.token })).body).toEqual({ following: true, followed_by: false });
    });

    it('GET /users/:id/followers counts exactly after deleting a user who followed (cascade)', async () => {
      const [target, leaving] = [await app.registerUser(), await app.registerUser()];
      await follow(leaving, target);
      await follow(fan, target);
      await db.query(`DELETE FROM users WHERE id = $1`, [leaving.id]);
      const followers = await app.get(`/users/${target.id}/followers`, { token: fan.token });
      expect(followers.body.users.map((u: any) => u.id)).toEqual([fan.id]);
      expect(followers.body.pagination.total).toBe(1);
      expect(await follow(third, target)).toEqual({ following: true, followers_count: 2 });
    });

    it('an admin follows and is followed like anyone', async () => {
      expect(await follow(admin, star)).toMatchObject({ following: true });
      expect((await app.get(`/users/${adminId}/follow-status`, { token: star.token })).body).toEqual({ following: false, followed_by: true });
    });
  });

  // ───────────────────────────── notifications ─────────────────────────────
  describe('CommunityActivityEvent on the EventBus', () => {
    let published: any[];
    let subscription: Subscription;
    let owner: User;
    let liker: User;

    beforeAll(async () => {
      published = [];
      // Every event of the kind this app's bus carries, as plain objects (their fields, in order of publication).
      subscription = app.running.app.get(EventBus).pipe(ofType(CommunityActivityEvent)).subscribe((event) => published.push({ ...event }));
      [owner, liker] = [await app.registerUser(), await app.registerUser()];
    });
    afterAll(() => subscription.unsubscribe());

    /**
     * The events published during `run`: a handler publishes before it answers, so they are all in when the
     * response is; the pause catches any published later by mistake.
     */
    async function heard(run: () => Promise<unknown>): Promise<any[]> {
      published.length = 0;
      await run();
      await sleep(50);
      return [...published];
    }

    it('a like by another user tells the post\'s author', async () => {
      const post = await createPost(owner.token);
      const got = await heard(() => app.post(`/community/posts/${post.id}/like`, undefined, { token: liker.token }));
      expect(got).toEqual([{ type: 'post_like', recipient_id: owner.id, actor_id: liker.id, post_id: post.id }]);
    });

    it('taking the like back tells nobody; liking my own post tells nobody', async () => {
      const post = await createPost(owner.token);
      expect(await heard(() => app.post(`/community/posts/${post.id}/like`, undefined, { token: liker.token }))).toHaveLength(1);
      expect(await heard(() => app.post(`/community/posts/${post.id}/like`, undefined, { token: liker.token }))).toEqual([]);
      expect(await heard(() => app.post(`/community/posts/${post.id}/like`, undefined, { token: owner.token }))).toEqual([]);
      expect(await heard(() => app.post(`/community/posts/${post.id}/like`, undefined, { token: owner.token }))).toEqual([]);
    });

    it('a favorite, a comment, a reply, a comment like and a follow tell the right user; one\'s own never', async () => {
      const replier = await app.registerUser();
      const post = await createPost(owner.token);
      expect(await heard(() => app.post(`/community/posts/${post.id}/favorite`, undefined, { token: liker.token })))
        .toEqual([{ type: 'post_favorite', recipient_id: owner.id, actor_id: liker.id, post_id: post.id }]);
      let top: any;
      expect(await heard(async () => { top = await comment(liker.token, post.id, 'hi'); }))
        .toEqual([{ type: 'comment', recipient_id: owner.id, actor_id: liker.id, post_id: post.id, comment_id: top.id }]);
      let reply: any;
      const replyMessages = await heard(async () => { reply = await comment(replier.token, post.id, 'hello', top.id); });
      expect(replyMessages).toEqual(expect.arrayContaining([
        { type: 'comment', recipient_id: owner.id, actor_id: replier.id, post_id: post.id, comment_id: reply.id },
        { type: 'reply', recipient_id: liker.id, actor_id: replier.id, post_id: post.id, comment_id: reply.id },
      ]));
      expect(replyMessages).toHaveLength(2);
      expect(await heard(() => app.post(`/community/comments/${top.id}/like`, undefined, { token: owner.token })))
        .toEqual([{ type: 'comment_like', recipient_id: liker.id, actor_id: owner.id, comment_id: top.id }]);
      expect(await heard(() => app.post(`/community/comments/${top.id}/like`, undefined, { token: liker.token }))).toEqual([]);
      expect(await heard(() => comment(owner.token, post.id, 'my own post'))).toEqual([]);
      expect(await heard(() => app.post(`/community/follow/${owner.id}`, undefined, { token: liker.token })))
        .toEqual([{ type: 'follow', recipient_id: owner.id, actor_id: liker.id }]);
      expect(await heard(() => app.post(`/community/follow/${owner.id}`, undefined, { token: liker.token }))).toEqual([]);
    });
  });
});

// ───────────────────────────── per-action rate limits ─────────────────────────────
describe('Community per-action rate limits (RATE_LIMIT_ENABLED=true)', () => {
  let app: TestApp;
  let admin: string;
  let target: any;

  /** Windows are fixed and aligned to multiples of 30 s: start a scenario with enough of one left. */
  async function inOneWindow(neededMs = 12_000): Promise<void> {
    const left = 30_000 - (Date.now() % 30_000);
    if (left < neededMs) await sleep(left + 200);
  }

  function expectRateLimited(response: ApiResponse, window: string, limit: number): void {
    expectError(response, 429, 'RATE_LIMITED');
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(response.body.error.details).toEqual({ retry_after: retryAfter, limit, window });
  }

  /** A user on the unlimited plan, so only the action limits apply. */
  async function unlimitedUser(): Promise<User> {
    const user = await app.registerUser();
    const level = await app.put(`/admin/users/${user.id}`, { level: 'enterprise' }, { token: admin });
    expect(level.status).toBe(200);
    return user;
  }

  beforeAll(async () => {
    app = await TestApp.start({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_ANONYMOUS_PER_MINUTE: '10000', RATE_LIMIT_ANONYMOUS_PER_HOUR: '100000' });
    admin = await app.adminToken();
    const owner = await unlimitedUser();
    const created = await app.post('/community/posts', { title: 'target', content: 'x' }, { token: owner.token });
    expect(created.status).toBe(201);
    target = created.body;
  });
  afterAll(() => app.stop());

  it('posts and comments together: 10 per 30 s, the 11th is 429 with Retry-After; reads are not limited', async () => {
    const [writer, bystander] = [await unlimitedUser(), await unlimitedUser()];
    await inOneWindow();
    for (let i = 1; i <= 5; i++) {
      const response = await app.post('/community/posts', { title: `p${i}`, content: 'x' }, { token: writer.token });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-ratelimit-limit')).toBe('10');
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(10 - i));
    }
    for (let i = 6; i <= 10; i++) {
      const response = await app.post(`/community/posts/${target.id}/comments`, { content: `c${i}` }, { token: writer.token });
      expect(response.status).toBe(201);
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(10 - i));
    }
    const before = (await app.query(`SELECT count(*)::int AS n FROM posts WHERE user_id = $1`, [writer.id])).rows[0].n;
    const post = await app.post('/community/posts', { title: 'p11', content: 'x' }, { token: writer.token });
    expectRateLimited(post, 'community.write', 10);
    expect(post.headers.get('x-ratelimit-remaining')).toBe('0');
    expectRateLimited(await app.post(`/community/posts/${target.id}/comments`, { content: 'c12' }, { token: writer.token }), 'community.write', 10);
    expect((await app.query(`SELECT count(*)::int AS n FROM posts WHERE user_id = $1`, [writer.id])).rows[0].n).toBe(before);
    // Edits, reads and reactions are other limits.
    expect((await app.get('/community/posts', { token: writer.token })).status).toBe(200);
    expect((await app.get(`/community/posts/${target.id}/comments`, { token: writer.token })).status).toBe(200);
    expect((await app.post(`/community/posts/${target.id}/like`, undefined, { token: writer.token })).status).toBe(200);
    // Another user has a window of their own.
    expect((await app.post('/community/posts', { title: 'other', content: 'x' }, { token: bystander.token })).status).toBe(201);
  });

  it('likes, favorites, comment likes and follows together: 30 per 30 s, the 31st is 429', async () => {
    const [reactor, someone] = [await unlimitedUser(), await unlimitedUser()];
    const top = await app.post(`/community/posts/${target.id}/comments`, { content: 'likeable' }, { token: someone.token });
    expect(top.status).toBe(201);
    await inOneWindow();
    const actions = [
      () => app.post(`/community/posts/${target.id}/like`, undefined, { token: reactor.token }),
      () => app.post(`/community/posts/${target.id}/favorite`, undefined, { token: reactor.token }),
      () => app.post(`/community/comments/${top.body.id}/like`, undefined, { token: reactor.token }),
      () => app.post(`/community/follow/${someone.id}`, undefined, { token: reactor.token }),
    ];
    for (let i = 1; i <= 30; i++) {
      const response = await actions[i % 4]();
      expect(response.status).toBe(200);
      expect(response.headers.get('x-ratelimit-remaining')).toBe(String(30 - i));
    }
    for (const action of actions) expectRateLimited(await action(), 'community.react', 30);
    // Posting is a separate limit.
    expect((await app.post('/community/posts', { title: 'still', content: 'x' }, { token: reactor.token })).status).toBe(201);
  });

  it('the 31st like alone is 429 as well', async () => {
    const liker = await unlimitedUser();
    await inOneWindow();
    for (let i = 1; i <= 30; i++) expect((await app.post(`/community/posts/${target.id}/like`, undefined, { token: liker.token })).status).toBe(200);
    expectRateLimited(await app.post(`/community/posts/${target.id}/like`, undefined, { token: liker.token }), 'community.react', 30);
  });

  it('admins are exempt from the action limits', async () => {
    await inOneWindow();
    for (let i = 1; i <= 12; i++) {
      expect((await app.post('/community/posts', { title: `admin ${i}`, content: 'x' }, { token: admin })).status).toBe(201);
    }
    for (let i = 1; i <= 32; i++) {
      expect((await app.post(`/community/posts/${target.id}/like`, undefined, { token: admin })).status).toBe(200);
    }
  });

  it('on a limited plan, the plan\'s own window still applies on top', async () => {
    const user = await app.registerUser();
    await inOneWindow();
    const response = await app.post('/community/posts', { title: 'free plan', content: 'x' }, { token: user.token });
    expect(response.status).toBe(201);
    // The tightest window is reported: 9 posts left of 10 (the free plan allows 60 a minute).
    expect(response.headers.get('x-ratelimit-limit')).toBe('10');
    expect(response.headers.get('x-ratelimit-remaining')).toBe('9');
  });
});
