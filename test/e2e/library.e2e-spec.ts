import { Client } from 'pg';
import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * The code library, end to end: POST/GET /code-library, GET/PUT/DELETE
 * /code-library/:id, POST /code-library/save (from a snippet and from a
 * community post), POST /code-library/:id/run, the API-key reads GET /codes,
 * /codes/:id, and a user's listing GET /users/:id/code-library; owner rules
 * (someone else's private snippet is 404), API-key scopes, the
 * q/tag/language/is_public filters, that environment_id must name an
 * environment the writer may run with, and that q is served by the pg_trgm
 * indexes.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const SNIPPET_FIELDS = [
  'id', 'user_id', 'title', 'description', 'code', 'language', 'tags', 'is_public', 'environment_id', 'saved_from_id', 'created_at', 'updated_at',
].sort();

type User = Awaited<ReturnType<TestApp['registerUser']>>;

function expectSnippetShape(body: any, expected: Record<string, unknown> = {}): void {
  expect(Object.keys(body).sort()).toEqual(SNIPPET_FIELDS);
  expect(body.id).toMatch(UUID);
  expect(body.user_id).toMatch(UUID);
  expect(body.created_at).toMatch(ISO);
  expect(body.updated_at).toMatch(ISO);
  expect(Array.isArray(body.tags)).toBe(true);
  expect(body).toMatchObject(expected);
}

describe('Code library (/api/v1/code-library, /codes)', () => {
  let app: TestApp;
  let db: Client;
  let alice: User;
  let bob: User;
  /** alice's private environment (a real venv), which snippets may name. */
  let aliceEnv: any;
  const keys: Record<'read' | 'write' | 'execute' | 'profile', string> = { read: '', write: '', execute: '', profile: '' };

  beforeAll(async () => {
    app = await TestApp.start();
    db = new Client({ connectionString: app.databaseUrl });
    await db.connect();
    const admin = await app.adminToken();
    [alice, bob] = [await app.registerUser(), await app.registerUser()];
    // The free plan allows one API key; alice needs one per scope.
    const level = await app.put(`/admin/users/${alice.id}`, { level: 'enterprise' }, { token: admin });
    expect(level.status).toBe(200);
    for (const [name, scope] of [['read', 'code:read'], ['write', 'code:write'], ['execute', 'execute'], ['profile', 'profile:read']] as const) {
      const response = await app.post('/api-keys', { name, scopes: [scope] }, { token: alice.token });
      expect(response.status).toBe(201);
      keys[name] = response.body.key;
    }
    aliceEnv = await createEnvironment(alice.token, 'lib-env');
  });
  afterAll(async () => {
    await db.end();
    await app.stop();
  });

  async function createEnvironment(token: string, name: string, isPublic = false): Promise<any> {
    const response = await app.post('/user-environments', { name, is_public: isPublic }, { token });
    if (response.status !== 201) throw new Error(`environment create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  async function create(token: string, body: Record<string, unknown>): Promise<any> {
    const response = await app.post('/code-library', { title: 'A snippet', code: 'print(1)', ...body }, { token });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  describe('POST /code-library', () => {
    it('creates a snippet with defaults and answers its full shape', async () => {
      const response = await app.post('/code-library', { title: '  Hello  ', code: 'print("hi")' }, { token: alice.token });
      expect(response.status).toBe(201);
      expectSnippetShape(response.body, {
        user_id: alice.id, title: 'Hello', description: '', code: 'print("hi")', language: 'python', tags: [],
        is_public: false, environment_id: null, saved_from_id: null,
      });
      expect(response.body.created_at).toBe(response.body.updated_at);
    });

    it('stores every field given, also with a code:write API key', async () => {
      const body = { title: 'Sum', description: 'Adds', code: 'print(1+1)', language: 'python', tags: ['math', 'py'], is_public: true, environment_id: aliceEnv.id };
      const response = await app.post('/code-library', body, { apiKey: keys.write });
      expect(response.status).toBe(201);
      expectSnippetShape(response.body, { ...body, user_id: alice.id });
    });

    it.each([
      ['missing title and code', {}, ['title', 'code']],
      ['empty title', { title: '', code: 'x' }, ['title']],
      ['too-long title', { title: 'x'.repeat(201), code: 'x' }, ['title']],
      ['bad language', { title: 't', code: 'x', language: 'ruby' }, ['language']],
      ['unknown field', { title: 't', code: 'x', owner: 'me' }, ['owner']],
      ['tags not an array', { title: 't', code: 'x', tags: 'math' }, ['tags']],
      ['tags of numbers', { title: 't', code: 'x', tags: [1, 2] }, ['tags']],
      ['is_public not a boolean', { title: 't', code: 'x', is_public: 'yes' }, ['is_public']],
      ['environment_id not a UUID', { title: 't', code: 'x', environment_id: 'env-1' }, ['environment_id']],
    ])('400 for %s', async (_name, body, fields) => {
      expectValidation(await app.post('/code-library', body, { token: alice.token }), ...fields);
    });

    it('401 without credentials', async () => {
      expectError(await app.post('/code-library', { title: 't', code: 'x' }), 401, 'UNAUTHORIZED');
    });

    it.each([
      ['code:read', 'read'],
      ['execute', 'execute'],
    ] as const)('403 for an API key with only %s', async (_scope, key) => {
      expectError(await app.post('/code-library', { title: 't', code: 'x' }, { apiKey: keys[key] }), 403, 'FORBIDDEN');
    });
  });

  describe('GET /code-library and GET /codes', () => {
    let owner: User;
    let other: User;
    let rows: any[];

    beforeAll(async () => {
      [owner, other] = [await app.registerUser(), await app.registerUser()];
      rows = [];
      rows.push(await create(owner.token, { title: 'Binary Search', description: 'classic', code: 'def bs(): pass', tags: ['algo'] }));
      rows.push(await create(owner.token, { title: 'Hello', description: 'Prints a FRIENDLY greeting', code: 'print(2)', tags: ['intro', 'algo'], is_public: true }));
      rows.push(await create(owner.token, { title: 'Node', description: '', code: 'const total = 100 % 7; // QuickSort_helper', language: 'javascript' }));
      rows.push(await create(owner.token, { title: 'Percent', description: '50% done', code: 'print(3)' }));
      await create(other.token, { title: 'Binary Search too', code: 'print(4)', is_public: true });
    });

    const titles = (body: any) => body.snippets.map((s: any) => s.title);

    it('lists only my snippets, newest first, with pagination', async () => {
      const response = await app.get('/code-library', { token: owner.token });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['pagination', 'snippets']);
      expect(titles(response.body)).toEqual(['Percent', 'Node', 'Hello', 'Binary Search']);
      response.body.snippets.forEach((snippet: any) => expectSnippetShape(snippet, { user_id: owner.id }));
      expect(response.body.snippets[0]).toEqual(rows[3]);
      expect(response.body.pagination).toEqual({ total: 4, page: 1, limit: 20, pages: 1 });
    });

    it('pages with page and limit', async () => {
      const response = await app.get('/code-library?page=2&limit=3', { token: owner.token });
      expect(response.status).toBe(200);
      expect(titles(response.body)).toEqual(['Binary Search']);
      expect(response.body.pagination).toEqual({ total: 4, page: 2, limit: 3, pages: 2 });
    });

    it.each([
      ['title', 'binary', ['Binary Search']],
      ['description', 'friendly', ['Hello']],
      ['code', 'quicksort_HELPER', ['Node']],
      ['a literal %', '%', ['Percent', 'Node']],
      ['nothing', 'absent-word', []],
    ])('q searches by %s, case-insensitive', async (_what, q, expected) => {
      const response = await app.get(`/code-library?q=${encodeURIComponent(q as string)}`, { token: owner.token });
      expect(response.status).toBe(200);
      expect(titles(response.body)).toEqual(expected);
      expect(response.body.pagination.total).toBe((expected as string[]).length);
    });

    it.each([
      ['tag=algo', ['Hello', 'Binary Search']],
      ['tag=intro', ['Hello']],
      ['language=javascript', ['Node']],
      ['is_public=true', ['Hello']],
      ['is_public=false', ['Percent', 'Node', 'Binary Search']],
      ['tag=algo&is_public=false&q=search', ['Binary Search']],
    ])('filters by %s', async (query, expected) => {
      const response = await app.get(`/code-library?${query}`, { token: owner.token });
      expect(response.status).toBe(200);
      expect(titles(response.body)).toEqual(expected);
    });

    it('GET /codes answers the same to a code:read key', async () => {
      const viaJwt = await app.get('/code-library?tag=algo', { token: alice.token });
      const viaKey = await app.get('/codes?tag=algo', { apiKey: keys.read });
      const sameByLibrary = await app.get('/code-library?tag=algo', { apiKey: keys.read });
      expect(viaKey.status).toBe(200);
      expect(viaKey.body).toEqual(viaJwt.body);
      expect(sameByLibrary.body).toEqual(viaJwt.body);
      const mine = await app.get('/codes', { token: owner.token });
      expect(titles(mine.body)).toEqual(['Percent', 'Node', 'Hello', 'Binary Search']);
    });

    it.each([
      ['/code-library?limit=101', 'limit'],
      ['/code-library?page=0', 'page'],
      ['/code-library?language=ruby', 'language'],
      ['/code-library?is_public=yes', 'is_public'],
      ['/code-library?sort=title', 'sort'],
      ['/codes?limit=0', 'limit'],
    ])('400 for %s', async (path, field) => {
      expectValidation(await app.get(path, { token: owner.token }), field);
    });

    it.each([['/code-library'], ['/codes']])('401 without credentials on %s', async (path) => {
      expectError(await app.get(path), 401, 'UNAUTHORIZED');
    });

    it.each([
      ['/code-library', 'write'],
      ['/code-library', 'execute'],
      ['/codes', 'write'],
      ['/codes', 'profile'],
    ] as const)('403 on %s for an API key with only the %s scope', async (path, key) => {
      expectError(await app.get(path, { apiKey: keys[key] }), 403, 'FORBIDDEN');
    });
  });

  describe('GET /code-library/:id and GET /codes/:id', () => {
    let privateOne: any;
    let publicOne: any;

    beforeAll(async () => {
      privateOne = await create(alice.token, { title: 'Private', code: 'print("secret")' });
      publicOne = await create(alice.token, { title: 'Public', code: 'print("shared")', is_public: true });
    });

    it.each([['/code-library'], ['/codes']])('%s/:id answers my snippet, by JWT and by code:read key', async (base) => {
      const byJwt = await app.get(`${base}/${privateOne.id}`, { token: alice.token });
      expect(byJwt.status).toBe(200);
      expect(byJwt.body).toEqual(privateOne);
      const byKey = await app.get(`${base}/${privateOne.id}`, { apiKey: keys.read });
      expect(byKey.body).toEqual(privateOne);
    });

    it.each([['/code-library'], ['/codes']])('%s/:id: another user reads a public snippet, but a private one is 404', async (base) => {
      const shared = await app.get(`${base}/${publicOne.id}`, { token: bob.token });
      expect(shared.status).toBe(200);
      expect(shared.body).toEqual(publicOne);
      expectError(await app.get(`${base}/${privateOne.id}`, { token: bob.token }), 404, 'NOT_FOUND');
    });

    it('an admin reads any snippet', async () => {
      const response = await app.get(`/code-library/${privateOne.id}`, { token: await app.adminToken() });
      expect(response.status).toBe(200);
    });

    it('404 for an unknown id, 400 for a bad uuid, 401 without credentials, 403 without code:read', async () => {
      expectError(await app.get(`/code-library/${UNKNOWN_ID}`, { token: alice.token }), 404, 'NOT_FOUND');
      expectValidation(await app.get('/code-library/not-a-uuid', { token: alice.token }), 'id');
      expectValidation(await app.get('/codes/not-a-uuid', { token: alice.token }), 'id');
      expectError(await app.get(`/code-library/${privateOne.id}`), 401, 'UNAUTHORIZED');
      expectError(await app.get(`/codes/${privateOne.id}`, { apiKey: keys.write }), 403, 'FORBIDDEN');
      expectError(await app.get(`/code-library/${privateOne.id}`, { apiKey: keys.execute }), 403, 'FORBIDDEN');
    });
  });

  describe('PUT /code-library/:id', () => {
    it('changes only the fields given and moves updated_at', async () => {
      const original = await create(alice.token, { title: 'Before', description: 'keep me', tags: ['a'], environment_id: aliceEnv.id });
      const response = await app.put(`/code-library/${original.id}`, { title: 'After', tags: ['b', 'c'], is_public: true, environment_id: null }, { token: alice.token });
      expect(response.status).toBe(200);
      expectSnippetShape(response.body, {
        ...original, title: 'After', tags: ['b', 'c'], is_public: true, environment_id: null, updated_at: expect.any(String),
      });
      expect(Date.parse(response.body.updated_at)).toBeGreaterThan(Date.parse(original.updated_at));
      expect((await app.get(`/code-library/${original.id}`, { token: alice.token })).body).toEqual(response.body);
    });

    it('works with a code:write key; a code:read key gets 403', async () => {
      const original = await create(alice.token, {});
      const response = await app.put(`/code-library/${original.id}`, { code: 'print(42)', language: 'python' }, { apiKey: keys.write });
      expect(response.status).toBe(200);
      expect(response.body.code).toBe('print(42)');
      expectError(await app.put(`/code-library/${original.id}`, { title: 'x' }, { apiKey: keys.read }), 403, 'FORBIDDEN');
    });

    it("404 for another user's snippet, private or public; it stays unchanged", async () => {
      const privateOne = await create(alice.token, { title: 'Mine' });
      const publicOne = await create(alice.token, { title: 'Mine too', is_public: true });
      for (const snippet of [privateOne, publicOne]) {
        expectError(await app.put(`/code-library/${snippet.id}`, { title: 'Stolen' }, { token: bob.token }), 404, 'NOT_FOUND');
        expect((await app.get(`/code-library/${snippet.id}`, { token: alice.token })).body.title).toBe(snippet.title);
      }
      expectError(await app.put(`/code-library/${UNKNOWN_ID}`, { title: 'x' }, { token: alice.token }), 404, 'NOT_FOUND');
    });

    it.each([
      ['title null', { title: null }, ['title']],
      ['too-long title', { title: 'x'.repeat(201) }, ['title']],
      ['empty code', { code: '' }, ['code']],
      ['bad language', { language: 'cobol' }, ['language']],
      ['tags of numbers', { tags: [1] }, ['tags']],
      ['unknown field', { user_id: UNKNOWN_ID }, ['user_id']],
    ])('400 for %s', async (_name, body, fields) => {
      const snippet = await create(alice.token, {});
      expectValidation(await app.put(`/code-library/${snippet.id}`, body, { token: alice.token }), ...fields);
    });

    it('400 for a bad uuid, 401 without credentials', async () => {
      expectValidation(await app.put('/code-library/nope', { title: 'x' }, { token: alice.token }), 'id');
      expectError(await app.put(`/code-library/${UNKNOWN_ID}`, { title: 'x' }), 401, 'UNAUTHORIZED');
    });
  });

  describe('environment_id is checked when it is written', () => {
    /** bob's only environment (free plan: one), private until a test shares it. */
    let bobEnv: any;

    beforeAll(async () => {
      bobEnv = await createEnvironment(bob.token, 'bob-env');
    });

    const snippetCount = async (token: string) => (await app.get('/code-library', { token })).body.pagination.total;

    function expectEnvironmentNotFound(response: any): void {
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.message).toBe('Environment not found');
    }

    it('POST: 404 "Environment not found" for an unknown environment or another user\'s private one; nothing is stored', async () => {
      const before = await snippetCount(alice.token);
      expectEnvironmentNotFound(await app.post('/code-library', { title: 't', code: 'x', environment_id: UNKNOWN_ID }, { token: alice.token }));
      expectEnvironmentNotFound(await app.post('/code-library', { title: 't', code: 'x', environment_id: bobEnv.id }, { apiKey: keys.write }));
      expect(await snippetCount(alice.token)).toBe(before);
    });

    it('PUT: 404 "Environment not found" for the same, and the snippet stays unchanged', async () => {
      const snippet = await create(alice.token, { environment_id: aliceEnv.id });
      for (const environmentId of [UNKNOWN_ID, bobEnv.id]) {
        expectEnvironmentNotFound(await app.put(`/code-library/${snippet.id}`, { title: 'Changed', environment_id: environmentId }, { token: alice.token }));
      }
      expect((await app.get(`/code-library/${snippet.id}`, { token: alice.token })).body).toEqual(snippet);
    });

    it('a snippet of someone else is 404 Snippet, whatever environment_id it names', async () => {
      const snippet = await create(alice.token, {});
      const response = await app.put(`/code-library/${snippet.id}`, { environment_id: UNKNOWN_ID }, { token: bob.token });
      expectError(response, 404, 'NOT_FOUND');
      expect(response.body.error.message).toBe('Snippet not found');
    });

    it('an admin may name anyone\'s environment', async () => {
      const response = await app.post('/code-library', { title: 't', code: 'x', environment_id: bobEnv.id }, { token: await app.adminToken() });
      expect(response.status).toBe(201);
      expect(response.body.environment_id).toBe(bobEnv.id);
    });

    it('another user\'s public environment may be named, and runs', async () => {
      expect((await app.put(`/user-environments/${bobEnv.id}`, { is_public: true }, { token: bob.token })).status).toBe(200);
      const snippet = await create(alice.token, { code: 'print("shared env")', environment_id: bobEnv.id });
      const moved = await app.put(`/code-library/${snippet.id}`, { environment_id: bobEnv.id }, { token: alice.token });
      expect(moved.status).toBe(200);
      const run = await app.post(`/code-library/${snippet.id}/run`, {}, { token: alice.token });
      expect(run.body).toMatchObject({ status: 'success', stdout: 'shared env\n', environment: 'bob-env' });
    });
  });

  describe('DELETE /code-library/:id', () => {
    it('deletes my snippet; a copy saved from it keeps its code and loses saved_from_id', async () => {
      const snippet = await create(alice.token, { is_public: true });
      const saved = await app.post('/code-library/save', { code_id: snippet.id }, { token: bob.token });
      const response = await app.delete(`/code-library/${snippet.id}`, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });
      expectError(await app.get(`/code-library/${snippet.id}`, { token: alice.token }), 404, 'NOT_FOUND');
      const copy = await app.get(`/code-library/${saved.body.id}`, { token: bob.token });
      expect(copy.body).toMatchObject({ code: snippet.code, saved_from_id: null });
    });

    it("404 for another user's snippet (it survives) and for an unknown id", async () => {
      const snippet = await create(alice.token, { is_public: true });
      expectError(await app.delete(`/code-library/${snippet.id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expect((await app.get(`/code-library/${snippet.id}`, { token: alice.token })).status).toBe(200);
      expectError(await app.delete(`/code-library/${UNKNOWN_ID}`, { token: alice.token }), 404, 'NOT_FOUND');
    });

    it('a code:write key deletes; code:read gets 403; no credentials 401; bad uuid 400', async () => {
      const snippet = await create(alice.token, {});
      expectError(await app.delete(`/code-library/${snippet.id}`, { apiKey: keys.read }), 403, 'FORBIDDEN');
      expectError(await app.delete(`/code-library/${snippet.id}`), 401, 'UNAUTHORIZED');
      expectValidation(await app.delete('/code-library/123', { token: alice.token }), 'id');
      expect((await app.delete(`/code-library/${snippet.id}`, { apiKey: keys.write })).status).toBe(200);
    });
  });

  describe('POST /code-library/save', () => {
    it('copies a public snippet into my library as a private snippet with saved_from_id', async () => {
      const original = await create(alice.token, { title: 'Share me', description: 'd', code: 'print(7)', tags: ['t'], is_public: true, environment_id: aliceEnv.id });
      const response = await app.post('/code-library/save', { code_id: original.id }, { token: bob.token });
      expect(response.status).toBe(201);
      expect(Object.keys(response.body).sort()).toEqual(['id', 'message']);
      expect(response.body.id).toMatch(UUID);
      expect(typeof response.body.message).toBe('string');
      const copy = await app.get(`/code-library/${response.body.id}`, { token: bob.token });
      expectSnippetShape(copy.body, {
        id: response.body.id, user_id: bob.id, title: 'Share me', description: 'd', code: 'print(7)', language: 'python', tags: ['t'],
        is_public: false, environment_id: aliceEnv.id, saved_from_id: original.id,
      });
      expectError(await app.get(`/code-library/${response.body.id}`, { token: alice.token }), 404, 'NOT_FOUND');
    });

    it('copies one of my own private snippets', async () => {
      const original = await create(alice.token, {});
      const response = await app.post('/code-library/save', { code_id: original.id }, { token: alice.token });
      expect(response.status).toBe(201);
      expect((await app.get(`/code-library/${response.body.id}`, { token: alice.token })).body.saved_from_id).toBe(original.id);
    });

    it("404 for another user's private snippet and for an unknown one", async () => {
      const original = await create(alice.token, {});
      expectError(await app.post('/code-library/save', { code_id: original.id }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.post('/code-library/save', { code_id: UNKNOWN_ID }, { token: bob.token }), 404, 'NOT_FOUND');
    });

    it.each([
      ['neither id', {}, ['code_id', 'post_id']],
      ['both ids', { code_id: UNKNOWN_ID, post_id: UNKNOWN_ID }, ['code_id', 'post_id']],
      ['a bad code_id', { code_id: 'abc' }, ['code_id']],
      ['a bad post_id', { post_id: 12 }, ['post_id']],
      ['an unknown field', { code_id: UNKNOWN_ID, title: 'x' }, ['title']],
    ])('400 for %s', async (_name, body, fields) => {
      expectValidation(await app.post('/code-library/save', body, { token: bob.token }), ...fields);
    });

    it('401 without credentials; 403 for API keys (JWT only)', async () => {
      expectError(await app.post('/code-library/save', { code_id: UNKNOWN_ID }), 401, 'UNAUTHORIZED');
      expectError(await app.post('/code-library/save', { code_id: UNKNOWN_ID }, { apiKey: keys.write }), 403, 'FORBIDDEN');
    });
  });

  describe('POST /code-library/save with post_id', () => {
    /** A community post of alice's, through the community API. */
    const post = async (fields: Record<string, unknown> = {}): Promise<string> => {
      const response = await app.post(
        '/community/posts',
        { title: 'A post', content: 'About this code', code: 'print("from a post")', code_language: 'python', ...fields },
        { token: alice.token },
      );
      expect(response.status).toBe(201);
      return response.body.id;
    };
    const snippetCount = async (token: string) => (await app.get('/code-library', { token })).body.pagination.total;

    it("copies the post's title, code, language and tags into a private snippet", async () => {
      const id = await post({ title: '  Quick sort in JS  ', code: 'console.log([3, 1, 2].sort())', code_language: 'javascript', tags: ['algo', 'algo', 'sorting'] });
      const response = await app.post('/code-library/save', { post_id: id }, { token: bob.token });
      expect(response.status).toBe(201);
      expect(response.body).toEqual({ id: expect.stringMatching(UUID), message: 'Snippet saved to your library' });
      const copy = await app.get(`/code-library/${response.body.id}`, { token: bob.token });
      expectSnippetShape(copy.body, {
        user_id: bob.id, title: 'Quick sort in JS', description: '', code: 'console.log([3, 1, 2].sort())', language: 'javascript',
        tags: ['algo', 'sorting'], is_public: false, environment_id: null, saved_from_id: null,
      });
    });

    it('a title of 200 characters with emoji is cut whole to the snippet limit, and can be written back', async () => {
      const id = await post({ title: 'T'.repeat(150) + '😀'.repeat(50) });
      const response = await app.post('/code-library/save', { post_id: id }, { token: bob.token });
      expect(response.status).toBe(201);
      const copy = (await app.get(`/code-library/${response.body.id}`, { token: bob.token })).body;
      expect(copy.title.startsWith('T'.repeat(150) + '😀')).toBe(true);
      expect(copy.title).not.toMatch(/[\uD800-\uDBFF]$/);
      expect((await app.put(`/code-library/${copy.id}`, { title: copy.title, tags: copy.tags }, { token: bob.token })).status).toBe(200);
    });

    it('404 "Post not found" for an unknown post or another user\'s private one; nothing is stored', async () => {
      const hidden = await post({ is_public: false });
      const before = await snippetCount(bob.token);
      for (const id of [UNKNOWN_ID, hidden]) {
        const response = await app.post('/code-library/save', { post_id: id }, { token: bob.token });
        expectError(response, 404, 'NOT_FOUND');
        expect(response.body.error.message).toBe('Post not found');
      }
      expect(await snippetCount(bob.token)).toBe(before);
      expect((await app.post('/code-library/save', { post_id: hidden }, { token: alice.token })).status).toBe(201);
    });

    it('422 for a post with no code', async () => {
      const id = await post({ code: null, code_language: null });
      const before = await snippetCount(bob.token);
      const response = await app.post('/code-library/save', { post_id: id }, { token: bob.token });
      expectError(response, 422, 'UNPROCESSABLE');
      expect(response.body.error.message).toBe('The post has no code to save');
      expect(await snippetCount(bob.token)).toBe(before);
    });

    it('422 naming the language for code in a language the library does not keep, or in none', async () => {
      const ruby = await post({ code: 'puts 1', code_language: 'ruby' });
      const response = await app.post('/code-library/save', { post_id: ruby }, { token: bob.token });
      expectError(response, 422, 'UNPROCESSABLE');
      expect(response.body.error.message).toContain('ruby');
      expect(response.body.error.details).toEqual({ language: 'ruby' });
      const none = await post({ code_language: null });
      expectError(await app.post('/code-library/save', { post_id: none }, { token: bob.token }), 422, 'UNPROCESSABLE');
    });

    it('the audit entry names the post', async () => {
      const id = await post();
      const saved = await app.post('/code-library/save', { post_id: id }, { token: bob.token });
      expect(saved.status).toBe(201);
      let rows: any[] = [];
      for (let attempt = 0; attempt < 100 && rows.length === 0; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ({ rows } = await db.query(`SELECT metadata FROM audit_logs WHERE action = 'code.save' AND resource_id = $1`, [saved.body.id]));
      }
      expect(rows[0].metadata).toMatchObject({ post_id: id });
    });
  });

  describe('GET /users/:id/code-library', () => {
    let owner: User;
    let viewer: User;
    let rows: any[];

    beforeAll(async () => {
      [owner, viewer] = [await app.registerUser(), await app.registerUser()];
      rows = [];
      rows.push(await create(owner.token, { title: 'Public sort', code: 'print(sorted([2, 1]))', tags: ['algo'], is_public: true }));
      rows.push(await create(owner.token, { title: 'Private notes', code: 'print("mine")', tags: ['algo'] }));
      rows.push(await create(owner.token, { title: 'Public node', code: 'console.log(1)', language: 'javascript', is_public: true }));
      rows.push(await create(owner.token, { title: 'Private draft', code: 'print("draft")', language: 'javascript' }));
      await create(viewer.token, { title: 'Viewer\'s own', code: 'print(0)', is_public: true });
    });

    const titles = (body: any) => body.snippets.map((s: any) => s.title);

    it('the user themself sees all of their snippets, newest first, paginated like GET /code-library', async () => {
      const response = await app.get(`/users/${owner.id}/code-library`, { token: owner.token });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['pagination', 'snippets']);
      expect(titles(response.body)).toEqual(['Private draft', 'Public node', 'Private notes', 'Public sort']);
      expect(response.body.snippets[0]).toEqual(rows[3]);
      response.body.snippets.forEach((snippet: any) => expectSnippetShape(snippet, { user_id: owner.id }));
      expect(response.body.pagination).toEqual({ total: 4, page: 1, limit: 20, pages: 1 });
    });

    it('another user sees only the public ones', async () => {
      const response = await app.get(`/users/${owner.id}/code-library`, { token: viewer.token });
      expect(response.status).toBe(200);
      expect(titles(response.body)).toEqual(['Public node', 'Public sort']);
      expect(response.body.snippets).toEqual([rows[2], rows[0]]);
      expect(response.body.pagination).toEqual({ total: 2, page: 1, limit: 20, pages: 1 });
    });

    it('an admin too sees only the public ones: this is the public listing', async () => {
      const response = await app.get(`/users/${owner.id}/code-library`, { token: await app.adminToken() });
      expect(response.status).toBe(200);
      expect(titles(response.body)).toEqual(['Public node', 'Public sort']);
    });

    it('pages with page and limit', async () => {
      const page2 = await app.get(`/users/${owner.id}/code-library?page=2&limit=1`, { token: viewer.token });
      expect(page2.status).toBe(200);
      expect(titles(page2.body)).toEqual(['Public sort']);
      expect(page2.body.pagination).toEqual({ total: 2, page: 2, limit: 1, pages: 2 });
      const own = await app.get(`/users/${owner.id}/code-library?page=2&limit=3`, { token: owner.token });
      expect(titles(own.body)).toEqual(['Public sort']);
      expect(own.body.pagination).toEqual({ total: 4, page: 2, limit: 3, pages: 2 });
    });

    it.each([
      ['tag=algo', ['Private notes', 'Public sort'], ['Public sort']],
      ['language=javascript', ['Private draft', 'Public node'], ['Public node']],
      ['q=PRIVATE', ['Private draft', 'Private notes'], []],
      ['q=sorted&tag=algo&language=python', ['Public sort'], ['Public sort']],
    ])('filters by %s, for the user and for others', async (query, mine, theirs) => {
      expect(titles((await app.get(`/users/${owner.id}/code-library?${query}`, { token: owner.token })).body)).toEqual(mine);
      expect(titles((await app.get(`/users/${owner.id}/code-library?${query}`, { token: viewer.token })).body)).toEqual(theirs);
    });

    it('an unknown user has an empty list', async () => {
      const response = await app.get(`/users/${UNKNOWN_ID}/code-library`, { token: viewer.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ snippets: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
    });

    it.each([
      ['/users/not-a-uuid/code-library', 'id'],
      ['/users/me/code-library', 'id'],
      ['/users/{owner}/code-library?limit=101', 'limit'],
      ['/users/{owner}/code-library?language=ruby', 'language'],
      ['/users/{owner}/code-library?is_public=true', 'is_public'],
    ])('400 for %s', async (path, field) => {
      expectValidation(await app.get(path.replace('{owner}', owner.id), { token: viewer.token }), field);
    });

    it('401 without credentials; 403 for an API key (a user login only)', async () => {
      expectError(await app.get(`/users/${owner.id}/code-library`), 401, 'UNAUTHORIZED');
      expectError(await app.get(`/users/${alice.id}/code-library`, { apiKey: keys.read }), 403, 'FORBIDDEN');
    });
  });

  describe('POST /code-library/:id/run', () => {
    it('runs my snippet with stdin and args and answers the execution result', async () => {
      const snippet = await create(alice.token, { code: 'import sys\nprint(input().upper(), sys.argv[1])' });
      const response = await app.post(`/code-library/${snippet.id}/run`, { stdin: 'hello\n', args: ['x'], timeout_ms: 3000 }, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'success', exit_code: 0, stdout: 'HELLO x\n', language: 'python', source: 'web', code: snippet.code });
      expect(response.body.limits.timeout_ms).toBe(3000);
      expect(response.body.id).toMatch(UUID);
    });

    it('runs a public snippet of another user; a private one is 404', async () => {
      const shared = await create(alice.token, { code: 'console.log(6 * 7)', language: 'javascript', is_public: true });
      const response = await app.post(`/code-library/${shared.id}/run`, {}, { token: bob.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'success', stdout: '42\n', language: 'javascript' });
      const hidden = await create(alice.token, {});
      expectError(await app.post(`/code-library/${hidden.id}/run`, {}, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/code-library/${UNKNOWN_ID}/run`, {}, { token: bob.token }), 404, 'NOT_FOUND');
    });

    it('with an execute key the run is stored with source api and listed in GET /executions', async () => {
      const snippet = await create(alice.token, { code: 'print("via key")' });
      const response = await app.post(`/code-library/${snippet.id}/run`, undefined, { apiKey: keys.execute });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'success', stdout: 'via key\n', source: 'api' });
      const history = await app.get('/executions', { token: alice.token });
      const run = history.body.executions.find((e: any) => e.id === response.body.id);
      expect(run).toMatchObject({ source: 'api', code: snippet.code, status: 'success' });
    });

    it('runs in the snippet\'s environment; once that is deleted, the run answers 404', async () => {
      const snippet = await create(alice.token, { code: 'import sys\nprint(sys.prefix != sys.base_prefix)', environment_id: aliceEnv.id });
      const response = await app.post(`/code-library/${snippet.id}/run`, {}, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'success', stdout: 'True\n', environment: 'lib-env' });

      const doomed = await createEnvironment(alice.token, 'lib-doomed');
      const orphan = await create(alice.token, { environment_id: doomed.id });
      expect((await app.delete(`/user-environments/${doomed.id}`, { token: alice.token })).status).toBe(200);
      const gone = await app.post(`/code-library/${orphan.id}/run`, {}, { token: alice.token });
      expectError(gone, 404, 'NOT_FOUND');
      expect(gone.body.error.message).toBe('Environment not found');
    });

    it.each([
      ['timeout_ms not a number', { timeout_ms: 'slow' }, ['timeout_ms']],
      ['memory_mb too small', { memory_mb: 1 }, ['memory_mb']],
      ['args not strings', { args: [1] }, ['args']],
      ['an unknown field', { code: 'print(2)' }, ['code']],
    ])('400 for %s', async (_name, body, fields) => {
      const snippet = await create(alice.token, {});
      expectValidation(await app.post(`/code-library/${snippet.id}/run`, body, { token: alice.token }), ...fields);
    });

    it('400 for a bad uuid, 401 without credentials, 403 for keys without execute', async () => {
      const snippet = await create(alice.token, {});
      expectValidation(await app.post('/code-library/x/run', {}, { token: alice.token }), 'id');
      expectError(await app.post(`/code-library/${snippet.id}/run`, {}), 401, 'UNAUTHORIZED');
      expectError(await app.post(`/code-library/${snippet.id}/run`, {}, { apiKey: keys.read }), 403, 'FORBIDDEN');
      expectError(await app.post(`/code-library/${snippet.id}/run`, {}, { apiKey: keys.write }), 403, 'FORBIDDEN');
    });
  });

  describe('audit', () => {
    it('writes code.* entries for snippets without code bodies', async () => {
      const snippet = await create(alice.token, { code: 'print("audit-secret-body")', is_public: true });
      await app.put(`/code-library/${snippet.id}`, { code: 'print("audit-secret-body-2")' }, { token: alice.token });
      await app.post(`/code-library/${snippet.id}/run`, {}, { token: alice.token });
      const saved = await app.post('/code-library/save', { code_id: snippet.id }, { token: bob.token });
      await app.delete(`/code-library/${snippet.id}`, { token: alice.token });
      const expected = ['code.create', 'code.update', 'code.run', 'code.save', 'code.delete'];
      let rows: any[] = [];
      for (let attempt = 0; attempt < 100 && rows.length < expected.length; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        ({ rows } = await db.query(
          `SELECT action, resource_type, resource_id, metadata FROM audit_logs WHERE resource_id IN ($1, $2) AND action LIKE 'code.%' ORDER BY created_at`,
          [snippet.id, saved.body.id],
        ));
      }
      expect(rows.map((row) => row.action)).toEqual(expected);
      for (const row of rows) {
        expect(row.resource_type).toBe('snippet');
        expect(JSON.stringify(row.metadata)).not.toContain('audit-secret-body');
      }
      expect(rows.find((row) => row.action === 'code.save').resource_id).toBe(saved.body.id);
    });
  });

  describe('search is index-backed', () => {
    it('q over a user with many snippets uses the pg_trgm indexes, not a sequential scan', async () => {
      const many = await app.registerUser();
      await db.query(
        `INSERT INTO snippets (id, user_id, title, description, code, language, created_at, updated_at)
         SELECT gen_random_uuid(), $1, 'Helper number ' || i, 'Computes value ' || md5(i::text),
                'def helper_' || i || '():' || chr(10) || '    return ' || i || ' * 2', 'python',
                now() - i * interval '1 second', now()
         FROM generate_series(1, 20000) AS i`,
        [many.id],
      );
      await create(many.token, { title: 'Needle', code: 'def zebrafish_counter(): pass' });
      // VACUUM moves the rows out of the GIN pending list (autovacuum does this in production) and ANALYZE gives the planner statistics.
      await db.query('VACUUM ANALYZE snippets');

      const response = await app.get('/code-library?q=ZEBRAFISH', { token: many.token });
      expect(response.status).toBe(200);
      expect(response.body.snippets.map((s: any) => s.title)).toEqual(['Needle']);

      // The statement ListSnippetsHandler builds for ?q=.
      const { rows } = await db.query(
        `EXPLAIN (FORMAT JSON) SELECT s.* FROM snippets s
         WHERE s.user_id = $1 AND (s.title ILIKE $2 OR s.description ILIKE $2 OR s.code ILIKE $2)
         ORDER BY s.created_at DESC, s.id DESC LIMIT 20`,
        [many.id, '%zebrafish%'],
      );
      const plan = JSON.stringify(rows[0]['QUERY PLAN']);
      expect(plan).not.toContain('Seq Scan');
      for (const index of ['snippets_title_trgm_idx', 'snippets_description_trgm_idx', 'snippets_code_trgm_idx']) expect(plan).toContain(index);
    });
  });
});
