import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Projects, end to end: POST/GET /projects, GET/PUT/DELETE /projects/:id and
 * GET/PUT /projects/:id/files. Owner rules (someone else's project is 404,
 * an admin reaches anyone's), input checks, atomic file writes, upserts,
 * content deduplication across projects (one blob, counted holders, bytes
 * deleted with the last holder), the plan's file size and storage limits, and
 * that storage_usage always equals the sum of the user's file sizes.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const PROJECT_FIELDS = ['id', 'name', 'description', 'type', 'repository_url', 'default_config', 'created_at', 'updated_at'].sort();
const FILE_FIELDS = ['path', 'size', 'hash', 'updated_at'].sort();

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const bytesOf = (text: string) => Buffer.byteLength(text, 'utf8');
/** Contents no other test writes, so blob rows and counts are this test's alone. */
const unique = (label = 'file') => `${label} ${randomUUID()}\n`;

/** An object nested `levels` deep: {a: {a: ... {}}}. */
function nested(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) value = { a: value };
  return value;
}

function expectProjectShape(body: any, expected: Record<string, unknown> = {}, extra: string[] = []): void {
  expect(Object.keys(body).sort()).toEqual([...PROJECT_FIELDS, ...extra].sort());
  expect(body.id).toMatch(UUID);
  expect(body.created_at).toMatch(ISO);
  expect(body.updated_at).toMatch(ISO);
  expect(body).toMatchObject(expected);
}

describe('Projects (/api/v1/projects)', () => {
  let app: TestApp;
  let admin: string;
  let adminId: string;
  let alice: User;
  let bob: User;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    adminId = (await app.get('/users/me', { token: admin })).body.id;
    [alice, bob] = [await app.registerUser(), await app.registerUser()];
  });
  afterAll(async () => {
    await app?.stop();
  });

  async function create(token: string, body: Record<string, unknown> = {}): Promise<any> {
    const response = await app.post('/projects', { name: `Project ${randomUUID()}`, type: 'nodejs', ...body }, { token });
    if (response.status !== 201) throw new Error(`create failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  function putFiles(token: string, id: string, files: { path: string; content: unknown }[]): Promise<ApiResponse> {
    return app.put(`/projects/${id}/files`, { files }, { token });
  }

  async function write(token: string, id: string, files: { path: string; content: string }[]): Promise<any[]> {
    const response = await putFiles(token, id, files);
    if (response.status !== 200) throw new Error(`write failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.files;
  }

  async function listFiles(token: string, id: string): Promise<any[]> {
    const response = await app.get(`/projects/${id}/files`, { token });
    expect(response.status).toBe(200);
    return response.body.files;
  }

  /** storage_usage.used_bytes of the user, after checking it is exactly the sum of their file sizes. */
  async function usedBytes(userId: string): Promise<number> {
    const { rows } = await app.query(
      `SELECT coalesce((SELECT used_bytes FROM storage_usage WHERE user_id = $1), 0)::bigint AS used,
              (SELECT coalesce(sum(size), 0) FROM files WHERE user_id = $1 AND kind = 'file')::bigint AS files`,
      [userId],
    );
    expect(Number(rows[0].used)).toBe(Number(rows[0].files));
    return Number(rows[0].used);
  }

  async function blobRow(hash: string): Promise<{ ref_count: number; size: number } | undefined> {
    const { rows } = await app.query('SELECT ref_count, size::int AS size FROM blobs WHERE hash = $1', [hash]);
    return rows[0];
  }

  const blobPath = (hash: string) => join(app.running.config.dataDir, 'files', hash.slice(0, 2), hash.slice(2, 4), hash);

  /** The audit entry of this response's request (polled for: entries are written in batches). */
  async function auditEntryOf(response: ApiResponse): Promise<any> {
    const requestId = response.headers.get('x-request-id');
    const deadline = Date.now() + 3000;
    for (;;) {
      const { rows } = await app.query('SELECT user_id, action, resource_type, resource_id, status_code, metadata FROM audit_logs WHERE request_id = $1', [requestId]);
      if (rows.length > 0) return rows[0];
      if (Date.now() > deadline) throw new Error(`no audit entry for request ${requestId}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('documents every route in openapi.json under the projects tag, with its errors', async () => {
    const { paths } = (await app.get('/openapi.json')).body;
    const operations: Record<string, any> = {
      'POST /projects': paths['/api/v1/projects'].post,
      'GET /projects': paths['/api/v1/projects'].get,
      'GET /projects/{id}': paths['/api/v1/projects/{id}'].get,
      'PUT /projects/{id}': paths['/api/v1/projects/{id}'].put,
      'DELETE /projects/{id}': paths['/api/v1/projects/{id}'].delete,
      'GET /projects/{id}/files': paths['/api/v1/projects/{id}/files'].get,
      'PUT /projects/{id}/files': paths['/api/v1/projects/{id}/files'].put,
    };
    for (const [name, operation] of Object.entries(operations)) {
      expect([name, operation?.tags]).toEqual([name, ['projects']]);
      expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['400', '401']));
      if (name.includes('{id}')) expect([name, Object.keys(operation.responses)]).toEqual([name, expect.arrayContaining(['404'])]);
    }
    expect(Object.keys(operations['POST /projects'].responses)).toEqual(expect.arrayContaining(['201', '409']));
    expect(Object.keys(operations['PUT /projects/{id}/files'].responses)).toEqual(expect.arrayContaining(['200', '409', '413']));
  });

  describe('POST /projects', () => {
    it('creates a project with defaults and answers its shape (no owner, no entity fields)', async () => {
      const response = await app.post('/projects', { name: '  Website  ', type: 'static' }, { token: alice.token });
      expect(response.status).toBe(201);
      expectProjectShape(response.body, { name: 'Website', description: '', type: 'static', repository_url: null, default_config: {} });
      expect(response.body.created_at).toBe(response.body.updated_at);
      const { rows } = await app.query('SELECT user_id FROM projects WHERE id = $1', [response.body.id]);
      expect(rows[0].user_id).toBe(alice.id);
    });

    it('stores every field given', async () => {
      const body = {
        name: 'API',
        description: 'The backend',
        type: 'python',
        repository_url: 'https://git.example.com/alice/api.git',
        default_config: { start_command: 'python main.py', env: { DEBUG: '0' }, ports: [8000, 8001], replicas: 2, public: true, extra: null },
      };
      const response = await app.post('/projects', body, { token: alice.token });
      expect(response.status).toBe(201);
      expectProjectShape(response.body, body);
      expect((await app.get(`/projects/${response.body.id}`, { token: alice.token })).body).toMatchObject(body);
    });

    it('accepts an http URL on a host without a public domain, and every type', async () => {
      for (const type of ['nodejs', 'python', 'static', 'other']) {
        const project = await create(alice.token, { type, repository_url: 'http://gitea:3000/team/repo' });
        expect(project).toMatchObject({ type, repository_url: 'http://gitea:3000/team/repo' });
      }
    });

    it('409 CONFLICT for a name I already use; another user may use it', async () => {
      await create(alice.token, { name: 'Twice' });
      const again = await app.post('/projects', { name: 'Twice', type: 'other' }, { token: alice.token });
      expectError(again, 409, 'CONFLICT');
      expect(again.body.error.details).toEqual({ field: 'name' });
      expect((await app.post('/projects', { name: 'Twice', type: 'other' }, { token: bob.token })).status).toBe(201);
    });

    it.each([
      ['missing name and type', {}, ['name', 'type']],
      ['empty name', { name: '', type: 'nodejs' }, ['name']],
      ['blank name', { name: '   ', type: 'nodejs' }, ['name']],
      ['too-long name', { name: 'x'.repeat(101), type: 'nodejs' }, ['name']],
      ['null name', { name: null, type: 'nodejs' }, ['name']],
      ['bad type', { name: 'p', type: 'ruby' }, ['type']],
      ['javascript: repository_url', { name: 'p', type: 'nodejs', repository_url: 'javascript:alert(1)' }, ['repository_url']],
      ['ftp repository_url', { name: 'p', type: 'nodejs', repository_url: 'ftp://example.com/repo' }, ['repository_url']],
      ['repository_url without a scheme', { name: 'p', type: 'nodejs', repository_url: 'github.com/a/b' }, ['repository_url']],
      ['too-long repository_url', { name: 'p', type: 'nodejs', repository_url: `https://example.com/${'a'.repeat(2030)}` }, ['repository_url']],
      ['repository_url not a string', { name: 'p', type: 'nodejs', repository_url: 42 }, ['repository_url']],
      ['default_config an array', { name: 'p', type: 'nodejs', default_config: [1, 2] }, ['default_config']],
      ['default_config a string', { name: 'p', type: 'nodejs', default_config: '{}' }, ['default_config']],
      ['default_config null', { name: 'p', type: 'nodejs', default_config: null }, ['default_config']],
      ['huge default_config', { name: 'p', type: 'nodejs', default_config: { blob: 'x'.repeat(17 * 1024) } }, ['default_config']],
      ['deep default_config', { name: 'p', type: 'nodejs', default_config: nested(20) }, ['default_config']],
      ['description not a string', { name: 'p', type: 'nodejs', description: 5 }, ['description']],
      ['unknown field', { name: 'p', type: 'nodejs', user_id: UNKNOWN_ID }, ['user_id']],
    ])('400 for %s', async (_name, body, fields) => {
      expectValidation(await app.post('/projects', body, { token: alice.token }), ...fields);
    });

    it('accepts default_config at the depth and size limits', async () => {
      const atDepth = await create(alice.token, { default_config: nested(8) });
      expect(atDepth.default_config).toEqual(nested(8));
      const large = { blob: 'x'.repeat(16 * 1024 - 20) };
      expect((await create(alice.token, { default_config: large })).default_config).toEqual(large);
      expectValidation(await app.post('/projects', { name: 'deeper', type: 'other', default_config: nested(9) }, { token: alice.token }), 'default_config');
    });

    it('400 for NUL in the name or in default_config (PostgreSQL refuses it; never a 500)', async () => {
      expectError(await app.post('/projects', { name: 'a\u0000b', type: 'other' }, { token: alice.token }), 400, 'BAD_REQUEST');
      expectError(await app.post('/projects', { name: 'nul', type: 'other', default_config: { k: 'a\u0000b' } }, { token: alice.token }), 400, 'BAD_REQUEST');
    });

    it('401 without credentials', async () => {
      expectError(await app.post('/projects', { name: 'p', type: 'nodejs' }), 401, 'UNAUTHORIZED');
    });

    it('is audited with the names of the fields sent, never their values', async () => {
      const response = await app.post('/projects', { name: 'Audited', type: 'other', description: 'secret-ish text' }, { token: alice.token });
      const entry = await auditEntryOf(response);
      expect(entry).toMatchObject({ user_id: alice.id, action: 'project.create', resource_type: 'project', resource_id: response.body.id, status_code: 201 });
      expect(entry.metadata.fields.sort()).toEqual(['description', 'name', 'type']);
      expect(JSON.stringify(entry.metadata)).not.toContain('secret-ish');
    });
  });

  describe('GET /projects', () => {
    let owner: User;
    let rows: any[];

    beforeAll(async () => {
      owner = await app.registerUser();
      rows = [];
      for (const name of ['First', 'Second', 'Third']) rows.push(await create(owner.token, { name }));
      await create(bob.token, { name: 'Not yours' });
    });

    it('lists only my projects, newest first, with pagination', async () => {
      const response = await app.get('/projects', { token: owner.token });
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(['pagination', 'projects']);
      expect(response.body.projects.map((p: any) => p.name)).toEqual(['Third', 'Second', 'First']);
      response.body.projects.forEach((project: any) => expectProjectShape(project));
      expect(response.body.projects[0]).toEqual(rows[2]);
      expect(response.body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
    });

    it('pages with page and limit', async () => {
      const response = await app.get('/projects?page=2&limit=2', { token: owner.token });
      expect(response.status).toBe(200);
      expect(response.body.projects.map((p: any) => p.name)).toEqual(['First']);
      expect(response.body.pagination).toEqual({ total: 3, page: 2, limit: 2, pages: 2 });
    });

    it('an admin lists their own projects only', async () => {
      const response = await app.get('/projects', { token: admin });
      expect(response.status).toBe(200);
      expect(response.body.projects.map((p: any) => p.name)).not.toContain('First');
    });

    it.each([['limit=101'], ['page=0'], ['limit=abc'], ['owner=me']])('400 for ?%s', async (query) => {
      expectError(await app.get(`/projects?${query}`, { token: owner.token }), 400, 'VALIDATION_ERROR');
    });

    it('401 without credentials', async () => {
      expectError(await app.get('/projects'), 401, 'UNAUTHORIZED');
    });
  });

  describe('GET, PUT and DELETE /projects/:id', () => {
    it('GET answers the project with its file count', async () => {
      const project = await create(alice.token, { name: 'Counted' });
      const empty = await app.get(`/projects/${project.id}`, { token: alice.token });
      expect(empty.status).toBe(200);
      expectProjectShape(empty.body, { ...project, file_count: 0 }, ['file_count']);
      await write(alice.token, project.id, [{ path: '/a.txt', content: unique() }, { path: '/lib/b.txt', content: unique() }]);
      expect((await app.get(`/projects/${project.id}`, { token: alice.token })).body.file_count).toBe(2);
    });

    it('PUT changes only the fields given; null clears repository_url', async () => {
      const project = await create(alice.token, { name: 'Before', description: 'd', repository_url: 'https://example.com/r', default_config: { a: 1 } });
      const renamed = await app.put(`/projects/${project.id}`, { name: ' After ', type: 'python' }, { token: alice.token });
      expect(renamed.status).toBe(200);
      expectProjectShape(renamed.body, { id: project.id, name: 'After', type: 'python', description: 'd', repository_url: 'https://example.com/r', default_config: { a: 1 } });
      expect(renamed.body.created_at).toBe(project.created_at);
      expect(Date.parse(renamed.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(project.updated_at));

      const cleared = await app.put(`/projects/${project.id}`, { repository_url: null, default_config: { b: [1, 2] }, description: '' }, { token: alice.token });
      expect(cleared.status).toBe(200);
      expect(cleared.body).toMatchObject({ name: 'After', repository_url: null, default_config: { b: [1, 2] }, description: '' });
      expect((await app.get(`/projects/${project.id}`, { token: alice.token })).body).toMatchObject(cleared.body);
    });

    it('PUT answers 409 for a name the owner already uses', async () => {
      await create(alice.token, { name: 'Taken' });
      const project = await create(alice.token, { name: 'Free name' });
      const response = await app.put(`/projects/${project.id}`, { name: 'Taken' }, { token: alice.token });
      expectError(response, 409, 'CONFLICT');
      expect((await app.get(`/projects/${project.id}`, { token: alice.token })).body.name).toBe('Free name');
    });

    it.each([
      ['bad type', { type: 'java' }, ['type']],
      ['null name', { name: null }, ['name']],
      ['null type', { type: null }, ['type']],
      ['null description', { description: null }, ['description']],
      ['null default_config', { default_config: null }, ['default_config']],
      ['deep default_config', { default_config: nested(30) }, ['default_config']],
      ['data: repository_url', { repository_url: 'data:text/html,hi' }, ['repository_url']],
      ['unknown field', { user_id: UNKNOWN_ID }, ['user_id']],
    ])('PUT 400 for %s', async (_name, body, fields) => {
      const project = await create(alice.token);
      expectValidation(await app.put(`/projects/${project.id}`, body, { token: alice.token }), ...fields);
    });

    it('DELETE answers {success:true}; the project is gone', async () => {
      const project = await create(alice.token);
      const response = await app.delete(`/projects/${project.id}`, { token: alice.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });
      expectError(await app.get(`/projects/${project.id}`, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/projects/${project.id}`, { token: alice.token }), 404, 'NOT_FOUND');
    });

    it("404 for another user's project on every route, and nothing changes", async () => {
      const project = await create(alice.token, { name: 'Private' });
      await write(alice.token, project.id, [{ path: '/keep.txt', content: 'keep' }]);
      expectError(await app.get(`/projects/${project.id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/projects/${project.id}`, { name: 'Mine now' }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.get(`/projects/${project.id}/files`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await putFiles(bob.token, project.id, [{ path: '/keep.txt', content: 'gone' }]), 404, 'NOT_FOUND');
      expectError(await app.delete(`/projects/${project.id}`, { token: bob.token }), 404, 'NOT_FOUND');
      const still = await app.get(`/projects/${project.id}`, { token: alice.token });
      expect(still.body).toMatchObject({ name: 'Private', file_count: 1 });
      expect((await listFiles(alice.token, project.id)).map((f) => f.hash)).toEqual([sha256('keep')]);
    });

    it('404 for an unknown id, 400 for an id that is not a UUID, 401 without credentials', async () => {
      expectError(await app.get(`/projects/${UNKNOWN_ID}`, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/projects/${UNKNOWN_ID}`, { name: 'x' }, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/projects/${UNKNOWN_ID}`, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await app.get(`/projects/${UNKNOWN_ID}/files`, { token: alice.token }), 404, 'NOT_FOUND');
      expectError(await putFiles(alice.token, UNKNOWN_ID, [{ path: '/a', content: 'a' }]), 404, 'NOT_FOUND');
      expectValidation(await app.get('/projects/not-a-uuid', { token: alice.token }), 'id');
      expectValidation(await app.get('/projects/not-a-uuid/files', { token: alice.token }), 'id');
      const project = await create(alice.token);
      expectError(await app.get(`/projects/${project.id}`), 401, 'UNAUTHORIZED');
      expectError(await app.put(`/projects/${project.id}`, { name: 'x' }), 401, 'UNAUTHORIZED');
      expectError(await app.delete(`/projects/${project.id}`), 401, 'UNAUTHORIZED');
      expectError(await app.get(`/projects/${project.id}/files`), 401, 'UNAUTHORIZED');
      expectError(await app.put(`/projects/${project.id}/files`, { files: [{ path: '/a', content: 'a' }] }), 401, 'UNAUTHORIZED');
    });

    it("an admin reads, changes, writes files of and deletes another user's project; the audit entries name the owner", async () => {
      const project = await create(alice.token, { name: 'Reached' });
      expect((await app.get(`/projects/${project.id}`, { token: admin })).status).toBe(200);
      expect((await app.get(`/projects/${project.id}/files`, { token: admin })).status).toBe(200);

      const renamed = await app.put(`/projects/${project.id}`, { description: 'by the admin' }, { token: admin });
      expect(renamed.status).toBe(200);
      expect(await auditEntryOf(renamed)).toMatchObject({ user_id: adminId, action: 'project.update', metadata: { owner_id: alice.id, fields: ['description'] } });

      const content = unique('admin');
      const written = await putFiles(admin, project.id, [{ path: '/by-admin.txt', content }]);
      expect(written.status).toBe(200);
      expect(await auditEntryOf(written)).toMatchObject({ user_id: adminId, action: 'project.write_files', metadata: { owner_id: alice.id } });
      // The file is the owner's: in their tree, counted in their storage.
      const { rows } = await app.query(`SELECT user_id FROM files WHERE project_id = $1 AND kind = 'file'`, [project.id]);
      expect(rows).toEqual([{ user_id: alice.id }]);
      await usedBytes(alice.id);
      await usedBytes(adminId);

      const deleted = await app.delete(`/projects/${project.id}`, { token: admin });
      expect(deleted.status).toBe(200);
      expect(await auditEntryOf(deleted)).toMatchObject({ user_id: adminId, action: 'project.delete', metadata: { owner_id: alice.id, file_count: 1, bytes: bytesOf(content) } });
      expectError(await app.get(`/projects/${project.id}`, { token: alice.token }), 404, 'NOT_FOUND');
      await usedBytes(alice.id);
    });
  });

  describe('PUT and GET /projects/:id/files', () => {
    let carol: User;

    beforeAll(async () => {
      carol = await app.registerUser();
    });

    it('writes files, creating folders, and answers path, size, hash and updated_at of each', async () => {
      const project = await create(carol.token);
      const index = 'console.log("héllo ✓")\n';
      const readme = '# Readme\n';
      const response = await putFiles(carol.token, project.id, [
        { path: 'src/lib/index.js', content: index },
        { path: '/README.md', content: readme },
        { path: '/empty.txt', content: '' },
      ]);
      expect(response.status).toBe(200);
      expect(Object.keys(response.body)).toEqual(['files']);
      response.body.files.forEach((file: any) => {
        expect(Object.keys(file).sort()).toEqual(FILE_FIELDS);
        expect(file.updated_at).toMatch(ISO);
      });
      expect(response.body.files.map(({ updated_at: _u, ...rest }: any) => rest)).toEqual([
        { path: '/src/lib/index.js', size: bytesOf(index), hash: sha256(index) },
        { path: '/README.md', size: bytesOf(readme), hash: sha256(readme) },
        { path: '/empty.txt', size: 0, hash: sha256('') },
      ]);

      const listed = await listFiles(carol.token, project.id);
      expect(listed.map((f) => f.path).sort()).toEqual(['/README.md', '/empty.txt', '/src/lib/index.js']);
      expect(listed.find((f) => f.path === '/src/lib/index.js')).toEqual(response.body.files[0]);

      const { rows } = await app.query(`SELECT kind, folder, name, mime_type FROM files WHERE project_id = $1 ORDER BY folder, name`, [project.id]);
      expect(rows).toEqual([
        { kind: 'file', folder: '/', name: 'README.md', mime_type: 'text/markdown' },
        { kind: 'file', folder: '/', name: 'empty.txt', mime_type: 'text/plain' },
        { kind: 'folder', folder: '/', name: 'src', mime_type: null },
        { kind: 'folder', folder: '/src', name: 'lib', mime_type: null },
        { kind: 'file', folder: '/src/lib', name: 'index.js', mime_type: 'text/javascript' },
      ]);
      expect(existsSync(blobPath(sha256(index)))).toBe(true);
      expect(await usedBytes(carol.id)).toBe(bytesOf(index) + bytesOf(readme));
    });

    it('upserts: a path written again gets the new contents; the old contents are let go', async () => {
      const project = await create(carol.token);
      const before = await usedBytes(carol.id);
      const [first, second] = [unique('first'), unique('second, which is longer')];
      await write(carol.token, project.id, [{ path: '/a.txt', content: first }, { path: '/b.txt', content: 'stays' }]);
      expect(await blobRow(sha256(first))).toMatchObject({ ref_count: 1 });
      expect(await usedBytes(carol.id)).toBe(before + bytesOf(first) + bytesOf('stays'));

      const replaced = await write(carol.token, project.id, [{ path: 'a.txt', content: second }]);
      expect(replaced).toEqual([expect.objectContaining({ path: '/a.txt', size: bytesOf(second), hash: sha256(second) })]);
      const listed = await listFiles(carol.token, project.id);
      expect(listed.map((f) => [f.path, f.hash])).toEqual([['/a.txt', sha256(second)], ['/b.txt', sha256('stays')]]);
      // The replaced contents had no other holder: their row and bytes are gone.
      expect(await blobRow(sha256(first))).toBeUndefined();
      expect(existsSync(blobPath(sha256(first)))).toBe(false);
      // Only the difference was charged.
      expect(await usedBytes(carol.id)).toBe(before + bytesOf(second) + bytesOf('stays'));

      // The same contents again: nothing changes but the time.
      const again = await write(carol.token, project.id, [{ path: '/a.txt', content: second }]);
      expect(again[0].hash).toBe(sha256(second));
      expect(await blobRow(sha256(second))).toMatchObject({ ref_count: 1 });
      expect(await usedBytes(carol.id)).toBe(before + bytesOf(second) + bytesOf('stays'));
    });

    it('is atomic: one bad path in the batch and nothing is written', async () => {
      const project = await create(carol.token);
      await write(carol.token, project.id, [{ path: '/kept.txt', content: 'old' }]);
      const before = await usedBytes(carol.id);
      const fresh = unique('never stored');
      const response = await putFiles(carol.token, project.id, [
        { path: '/kept.txt', content: 'new' },
        { path: '/new/file.txt', content: fresh },
        { path: '../escape.txt', content: 'x' },
      ]);
      expectError(response, 400, 'BAD_REQUEST');
      // In a batch, which path was refused matters.
      expect(response.body.error.details).toEqual({ path: '../escape.txt' });
      expect((await listFiles(carol.token, project.id)).map((f) => [f.path, f.hash])).toEqual([['/kept.txt', sha256('old')]]);
      const { rows } = await app.query(`SELECT count(*)::int AS n FROM files WHERE project_id = $1`, [project.id]);
      expect(rows[0].n).toBe(1);
      expect(await blobRow(sha256(fresh))).toBeUndefined();
      expect(await usedBytes(carol.id)).toBe(before);
    });

    it('is atomic when the database refuses: a file where a folder must go answers 409 and nothing is written', async () => {
      const project = await create(carol.token);
      await write(carol.token, project.id, [{ path: '/lib', content: 'a file named lib' }, { path: '/src/main.js', content: 'main' }]);
      const before = await usedBytes(carol.id);
      const fresh = unique('rolled back');
      // The first file is fine; the second needs /lib to be a folder; the third names a folder.
      expectError(await putFiles(carol.token, project.id, [{ path: '/ok.txt', content: fresh }, { path: '/lib/x.js', content: 'x' }]), 409, 'CONFLICT');
      expectError(await putFiles(carol.token, project.id, [{ path: '/ok.txt', content: fresh }, { path: '/src', content: 'x' }]), 409, 'CONFLICT');
      expect((await listFiles(carol.token, project.id)).map((f) => f.path)).toEqual(['/lib', '/src/main.js']);
      expect(await blobRow(sha256(fresh))).toBeUndefined();
      expect(await usedBytes(carol.id)).toBe(before);
    });

    it.each([
      ['a parent segment', '../x'],
      ['a parent segment inside', 'a/../b'],
      ['an empty segment', 'a//b'],
      ['an empty segment at the start', '//a'],
      ['an empty segment further up', 'a//b/c'],
      ['NUL', 'a\u0000b'],
      ['another control character', 'a\u0007b'],
      ['a backslash', 'a\\b'],
      ['a dot segment', 'a/./b'],
      ['only a slash', '/'],
      ['a trailing slash', '/a/'],
      ['a slash look-alike', 'a\u2215b'],
      ['a name of 256 bytes', `/${'n'.repeat(256)}`],
    ])('400 for a path with %s', async (_name, path) => {
      const project = await create(carol.token);
      const response = await putFiles(carol.token, project.id, [{ path, content: 'x' }]);
      expect(response.status).toBe(400);
      expect(['BAD_REQUEST', 'VALIDATION_ERROR']).toContain(response.body.error.code);
      expect(await listFiles(carol.token, project.id)).toEqual([]);
    });

    it('400 for a path sent twice (also spelled differently), or sent as a file and as the folder of another', async () => {
      const project = await create(carol.token);
      expectError(await putFiles(carol.token, project.id, [{ path: '/a.txt', content: '1' }, { path: 'a.txt', content: '2' }]), 400, 'BAD_REQUEST');
      // NFC and NFD spellings of é are one name.
      expectError(await putFiles(carol.token, project.id, [{ path: '/caf\u00e9', content: '1' }, { path: '/cafe\u0301', content: '2' }]), 400, 'BAD_REQUEST');
      expectError(await putFiles(carol.token, project.id, [{ path: '/lib/a/b.js', content: '1' }, { path: '/lib', content: '2' }]), 400, 'BAD_REQUEST');
      expect(await listFiles(carol.token, project.id)).toEqual([]);
    });

    it.each([
      ['no files field', {}, ['files']],
      ['an empty list', { files: [] }, ['files']],
      ['files not an array', { files: { path: '/a', content: 'a' } }, ['files']],
      ['an item that is not an object', { files: ['a'] }, ['files']],
      ['content not a string', { files: [{ path: '/a', content: 5 }] }, ['files.0.content']],
      ['a missing path', { files: [{ content: 'a' }] }, ['files.0.path']],
      ['an empty path', { files: [{ path: '', content: 'a' }] }, ['files.0.path']],
      ['an unknown field', { files: [{ path: '/a', content: 'a', mode: 755 }] }, ['files.0.mode']],
      ['more than 1000 files', { files: Array.from({ length: 1001 }, (_, i) => ({ path: `/f${i}`, content: '' })) }, ['files']],
    ])('400 for %s', async (_name, body, fields) => {
      const project = await create(carol.token);
      expectValidation(await app.put(`/projects/${project.id}/files`, body, { token: carol.token }), ...fields);
    });

    it('takes 1000 files in one request', async () => {
      const project = await create(carol.token);
      const files = Array.from({ length: 1000 }, (_, i) => ({ path: `/many/f${i}.txt`, content: `${i}` }));
      const written = await write(carol.token, project.id, files);
      expect(written).toHaveLength(1000);
      expect(await listFiles(carol.token, project.id)).toHaveLength(1000);
      await usedBytes(carol.id);
    }, 120_000);

    it('is audited with the file count and bytes, never paths or contents', async () => {
      const project = await create(carol.token);
      const secret = `TOKEN=${randomUUID()}`;
      const response = await putFiles(carol.token, project.id, [{ path: '/.env', content: secret }, { path: '/x.txt', content: 'héllo' }]);
      expect(response.status).toBe(200);
      const entry = await auditEntryOf(response);
      expect(entry).toMatchObject({ user_id: carol.id, action: 'project.write_files', resource_type: 'project', resource_id: project.id, status_code: 200 });
      expect(entry.metadata).toMatchObject({ file_count: 2, bytes: bytesOf(secret) + bytesOf('héllo') });
      expect(JSON.stringify(entry.metadata)).not.toContain(secret);
    });

    it('deleting a project deletes its files and folders and gives their bytes back', async () => {
      const project = await create(carol.token);
      const before = await usedBytes(carol.id);
      const content = unique('deleted with its project');
      await write(carol.token, project.id, [{ path: '/deep/er/file.txt', content }, { path: '/top.txt', content: 'top' }]);
      expect(await usedBytes(carol.id)).toBe(before + bytesOf(content) + bytesOf('top'));
      const response = await app.delete(`/projects/${project.id}`, { token: carol.token });
      expect(response.status).toBe(200);
      expect(await auditEntryOf(response)).toMatchObject({ action: 'project.delete', metadata: { file_count: 2, bytes: bytesOf(content) + bytesOf('top') } });
      const { rows } = await app.query('SELECT count(*)::int AS n FROM files WHERE project_id = $1', [project.id]);
      expect(rows[0].n).toBe(0);
      expect(await blobRow(sha256(content))).toBeUndefined();
      expect(existsSync(blobPath(sha256(content)))).toBe(false);
      expect(await usedBytes(carol.id)).toBe(before);
    });
  });

  describe('contents stored once', () => {
    it('two projects with the same contents share one blob; its bytes go with the last holder', async () => {
      const dave = await app.registerUser();
      const [first, second] = [await create(dave.token), await create(dave.token)];
      const content = unique('shared');
      const hash = sha256(content);
      await write(dave.token, first.id, [{ path: '/same.txt', content }]);
      await write(dave.token, second.id, [{ path: '/copy/same.txt', content }]);
      expect(await blobRow(hash)).toEqual({ ref_count: 2, size: bytesOf(content) });
      expect(existsSync(blobPath(hash))).toBe(true);
      // Each file counts against the owner's storage, though the bytes are stored once.
      expect(await usedBytes(dave.id)).toBe(2 * bytesOf(content));

      expect((await app.delete(`/projects/${first.id}`, { token: dave.token })).status).toBe(200);
      expect(await blobRow(hash)).toEqual({ ref_count: 1, size: bytesOf(content) });
      expect(existsSync(blobPath(hash))).toBe(true);
      expect(await listFiles(dave.token, second.id)).toEqual([expect.objectContaining({ path: '/copy/same.txt', hash })]);
      expect(await usedBytes(dave.id)).toBe(bytesOf(content));

      expect((await app.delete(`/projects/${second.id}`, { token: dave.token })).status).toBe(200);
      expect(await blobRow(hash)).toBeUndefined();
      expect(existsSync(blobPath(hash))).toBe(false);
      expect(await usedBytes(dave.id)).toBe(0);
    });

    it('the same contents twice in one request, and across users, are one blob with a holder per file', async () => {
      const [erin, frank] = [await app.registerUser(), await app.registerUser()];
      const content = unique('twice');
      const hash = sha256(content);
      const mine = await create(erin.token);
      await write(erin.token, mine.id, [{ path: '/one.txt', content }, { path: '/two.txt', content }]);
      expect(await blobRow(hash)).toMatchObject({ ref_count: 2 });
      const theirs = await create(frank.token);
      await write(frank.token, theirs.id, [{ path: '/three.txt', content }]);
      expect(await blobRow(hash)).toMatchObject({ ref_count: 3 });
      // Replacing one file's contents lets go of one holder only.
      await write(erin.token, mine.id, [{ path: '/two.txt', content: unique('other') }]);
      expect(await blobRow(hash)).toMatchObject({ ref_count: 2 });
      expect((await app.delete(`/projects/${mine.id}`, { token: erin.token })).status).toBe(200);
      expect(await blobRow(hash)).toMatchObject({ ref_count: 1 });
      expect(existsSync(blobPath(hash))).toBe(true);
      expect(await usedBytes(erin.id)).toBe(0);
      expect(await usedBytes(frank.id)).toBe(bytesOf(content));
    });
  });

  describe('concurrent requests', () => {
    it('writes sharing contents in opposite orders never deadlock, and every holder is counted', async () => {
      const user = await app.registerUser();
      const [one, two] = [await create(user.token), await create(user.token)];
      const hashes: string[] = [];
      for (let round = 0; round < 5; round++) {
        const [x, y] = [unique(`x${round}`), unique(`y${round}`)];
        hashes.push(sha256(x), sha256(y));
        const responses = await Promise.all([
          putFiles(user.token, one.id, [{ path: `/r${round}/x.txt`, content: x }, { path: `/r${round}/y.txt`, content: y }]),
          putFiles(user.token, two.id, [{ path: `/r${round}/y.txt`, content: y }, { path: `/r${round}/x.txt`, content: x }]),
          putFiles(user.token, one.id, [{ path: `/r${round}/y-again.txt`, content: y }]),
        ]);
        expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
      }
      const { rows } = await app.query('SELECT hash, ref_count FROM blobs WHERE hash = ANY($1)', [hashes]);
      expect(rows).toHaveLength(10);
      for (const row of rows) expect(row.ref_count).toBe(hashes.indexOf(row.hash) % 2 === 0 ? 2 : 3);
      await usedBytes(user.id);
    });

    it('a write racing a delete of the same project leaves no file, holder or byte behind', async () => {
      const user = await app.registerUser();
      for (let round = 0; round < 5; round++) {
        const project = await create(user.token);
        const content = unique(`race ${round}`);
        const [written, deleted] = await Promise.all([
          putFiles(user.token, project.id, [{ path: '/src/race.txt', content }]),
          app.delete(`/projects/${project.id}`, { token: user.token }),
        ]);
        expect(deleted.status).toBe(200);
        // The write came first (and its file went with the project) or found the project gone.
        expect([200, 404]).toContain(written.status);
        const { rows } = await app.query('SELECT count(*)::int AS n FROM files WHERE project_id = $1', [project.id]);
        expect(rows[0].n).toBe(0);
        expect(await blobRow(sha256(content))).toBeUndefined();
        expect(await usedBytes(user.id)).toBe(0);
      }
    });
  });

  describe("the plan's limits", () => {
    const BASIC = { storage_bytes: 1024 ** 3, max_upload_bytes: 25 * 1024 ** 2 };
    let grace: User;
    let project: any;

    beforeAll(async () => {
      grace = await app.registerUser();
      expect((await app.put(`/admin/users/${grace.id}`, { level: 'basic' }, { token: admin })).status).toBe(200);
      const limited = await app.put('/admin/plans/basic', { storage_bytes: 100, max_upload_bytes: 60 }, { token: admin });
      expect(limited.status).toBe(200);
      project = await create(grace.token);
    });
    afterAll(async () => {
      await app.put('/admin/plans/basic', BASIC, { token: admin });
    });

    const fill = (n: number, char = 'x') => char.repeat(n);

    it('413 FILE_TOO_LARGE for a file over max_upload_bytes (in UTF-8 bytes); nothing is written', async () => {
      const response = await putFiles(grace.token, project.id, [{ path: '/ok.txt', content: fill(10) }, { path: '/big.txt', content: fill(31, 'é') }]);
      expectError(response, 413, 'FILE_TOO_LARGE');
      expect(response.body.error.details).toEqual({ path: '/big.txt', limit_bytes: 60 });
      expect(await listFiles(grace.token, project.id)).toEqual([]);
      expect(await usedBytes(grace.id)).toBe(0);
    });

    it('413 STORAGE_QUOTA_EXCEEDED past storage_bytes; a replaced file is charged only by how much it grows', async () => {
      await write(grace.token, project.id, [{ path: '/a.txt', content: fill(50, 'a') }]);
      expect(await usedBytes(grace.id)).toBe(50);
      await write(grace.token, project.id, [{ path: '/b.txt', content: fill(50, 'b') }]);
      expect(await usedBytes(grace.id)).toBe(100);

      const over = await putFiles(grace.token, project.id, [{ path: '/c.txt', content: 'c' }]);
      expectError(over, 413, 'STORAGE_QUOTA_EXCEEDED');
      expect(over.body.error.details).toMatchObject({ used_bytes: 100, limit_bytes: 100 });
      expect(await usedBytes(grace.id)).toBe(100);
      expect(await blobRow(sha256('c'))).toBeUndefined();

      // Shrinking refunds, growing within the quota charges the difference, growing past it is refused.
      await write(grace.token, project.id, [{ path: '/a.txt', content: fill(40, 'a') }]);
      expect(await usedBytes(grace.id)).toBe(90);
      await write(grace.token, project.id, [{ path: '/a.txt', content: fill(50, 'A') }]);
      expect(await usedBytes(grace.id)).toBe(100);
      expectError(await putFiles(grace.token, project.id, [{ path: '/a.txt', content: fill(51, 'a') }]), 413, 'STORAGE_QUOTA_EXCEEDED');
      expect((await listFiles(grace.token, project.id)).find((f) => f.path === '/a.txt').hash).toBe(sha256(fill(50, 'A')));

      // What counts is the request's total: shrinking one file makes room for another in the same request.
      await write(grace.token, project.id, [{ path: '/a.txt', content: fill(10, 'a') }, { path: '/c.txt', content: fill(40, 'c') }]);
      expect(await usedBytes(grace.id)).toBe(100);

      // The quota is the user's, across projects.
      const other = await create(grace.token);
      expectError(await putFiles(grace.token, other.id, [{ path: '/d.txt', content: 'd' }]), 413, 'STORAGE_QUOTA_EXCEEDED');
      expect(await usedBytes(grace.id)).toBe(100);

      // Deleting a project frees its bytes for new files.
      expect((await app.delete(`/projects/${project.id}`, { token: grace.token })).status).toBe(200);
      expect(await usedBytes(grace.id)).toBe(0);
      await write(grace.token, other.id, [{ path: '/d.txt', content: fill(60, 'd') }]);
      expect(await usedBytes(grace.id)).toBe(60);
    });

    it('counts concurrent writes one after the other: of writes racing for the last bytes, only those that fit succeed', async () => {
      const racer = await app.registerUser();
      expect((await app.put(`/admin/users/${racer.id}`, { level: 'basic' }, { token: admin })).status).toBe(200);
      const projects = await Promise.all(Array.from({ length: 3 }, () => create(racer.token)));
      // 6 writes of 30 bytes against 100: exactly 3 fit, whichever they are.
      const responses = await Promise.all(
        Array.from({ length: 6 }, (_, i) => putFiles(racer.token, projects[i % 3].id, [{ path: `/f${i}.txt`, content: `${i}`.repeat(30) }])),
      );
      expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 413, 413, 413]);
      responses.filter((r) => r.status === 413).forEach((r) => expectError(r, 413, 'STORAGE_QUOTA_EXCEEDED'));
      expect(await usedBytes(racer.id)).toBe(90);
    });

    it('an admin has no limits, also writing into a user\'s project; the bytes count against the owner', async () => {
      const target = await create(grace.token);
      const before = await usedBytes(grace.id);
      await write(admin, target.id, [{ path: '/big.txt', content: fill(200) }]);
      expect(await usedBytes(grace.id)).toBe(before + 200);
      expectError(await putFiles(grace.token, target.id, [{ path: '/more.txt', content: 'm' }]), 413, 'STORAGE_QUOTA_EXCEEDED');
      expect((await app.delete(`/projects/${target.id}`, { token: grace.token })).status).toBe(200);
      expect(await usedBytes(grace.id)).toBe(before);
    });
  });
});
