import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3Server } from '../support/s3-server';
import { TestApp } from '../support/test-app';

/**
 * Files: streamed uploads into content-addressed storage, folders, listing,
 * downloads with ranges and validators, quotas, types by content, names and
 * paths, deduplication, deletion. The same suite runs against each store
 * (see the bottom of the file).
 */

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

interface Part {
  field?: string;
  name: string;
  content: Buffer | string;
  type?: string;
}

export function filesSuite(label: string, env: () => Promise<{ env: Record<string, string>; stop?: () => Promise<void> }>): void {
  describe(`Files (/api/v1/files) on ${label} storage`, () => {
    let app: TestApp;
    let admin: string;
    let stopStorage: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const storage = await env();
      stopStorage = storage.stop;
      app = await TestApp.start(storage.env);
      admin = await app.adminToken();
    });
    afterAll(async () => {
      await app.stop();
      await stopStorage?.();
    });

    async function upload(token: string | undefined, parts: Part[], fields: Record<string, string> = {}) {
      const form = new FormData();
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      for (const part of parts) form.append(part.field ?? 'files', new Blob([part.content], { type: part.type ?? 'application/octet-stream' }), part.name);
      const response = await fetch(`${app.url}/api/v1/files/upload`, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    }

    async function download(token: string, id: string, headers: Record<string, string> = {}) {
      const response = await fetch(`${app.url}/api/v1/files/${id}/download`, { headers: { authorization: `Bearer ${token}`, ...headers } });
      return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
    }

    async function setFreePlan(limits: { storage_bytes?: number | null; max_upload_bytes?: number | null }) {
      const plans = await app.get('/plans');
      const { id, ...free } = plans.body.plans.find((plan: { id: string }) => plan.id === 'free');
      const response = await app.put(`/admin/plans/${id}`, { ...free, ...limits }, { token: admin });
      if (response.status !== 200) throw new Error(`plan update failed: ${response.status} ${JSON.stringify(response.body)}`);
      return free as { storage_bytes: number | null; max_upload_bytes: number | null };
    }

    const usedBytes = async (userId: string) => Number((await app.query('SELECT used_bytes FROM storage_usage WHERE user_id = $1', [userId])).rows[0]?.used_bytes ?? 0);
    const blobRow = async (hash: string) => (await app.query('SELECT ref_count FROM blobs WHERE hash = $1', [hash])).rows[0];
    const stagingDir = () => join(app.running.config.dataDir, 'files', '.staging');

    it('uploads one file: the row, the answer, the listing, the download', async () => {
      const user = await app.registerUser();
      const content = 'id,name\n1,Ada\n';
      const response = await upload(user.token, [{ field: 'file', name: 'people.csv', content, type: 'application/x-lies' }]);
      expect(response.status).toBe(201);
      const [file] = response.body.files;
      expect(file).toEqual({
        id: expect.any(String), filename: 'people.csv', path: '/', size: Buffer.byteLength(content), mime_type: 'text/csv', hash: sha256(content),
        url: `/api/v1/files/${file.id}/download`, project_id: null, created_at: expect.any(String), updated_at: expect.any(String),
      });
      const listing = await app.get('/files', { token: user.token });
      expect(listing.status).toBe(200);
      expect(listing.body).toMatchObject({ path: '/', folders: [], files: [{ id: file.id }], pagination: { total: 1, page: 1 } });

      const got = await download(user.token, file.id);
      expect(got.status).toBe(200);
      expect(got.bytes.toString()).toBe(content);
      expect(got.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(got.headers.get('content-disposition')).toBe(`attachment; filename="people.csv"; filename*=UTF-8''people.csv`);
      expect(got.headers.get('etag')).toBe(`"${sha256(content)}"`);
      expect(got.headers.get('accept-ranges')).toBe('bytes');
      expect(new Date(got.headers.get('last-modified')!).getTime()).toBeGreaterThan(Date.now() - 60_000);
      expect(await usedBytes(user.id)).toBe(Buffer.byteLength(content));
      expect(readdirSync(stagingDir())).toEqual([]);

      const audit = await app.query(`SELECT metadata FROM audit_logs WHERE user_id = $1 AND action = 'file.upload'`, [user.id]);
      expect(audit.rows[0]?.metadata).toMatchObject({ file_count: 1, bytes: Buffer.byteLength(content), hash: sha256(content) });
      expect(JSON.stringify(audit.rows[0]?.metadata)).not.toContain('Ada');
    });

    it('uploads several files (files and files[]) into a folder it creates, and lists folders first', async () => {
      const user = await app.registerUser();
      const response = await upload(user.token, [
        { name: 'a.txt', content: 'alpha' },
        { field: 'files[]', name: 'b.json', content: '{"b":1}' },
        { name: 'pixel.png', content: PNG },
      ], { path: '/data/raw' });
      expect(response.status).toBe(201);
      expect(response.body.files.map((f: { filename: string; path: string; mime_type: string }) => [f.filename, f.path, f.mime_type])).toEqual([
        ['a.txt', '/data/raw', 'text/plain'],
        ['b.json', '/data/raw', 'application/json'],
        ['pixel.png', '/data/raw', 'image/png'],
      ]);
      await upload(user.token, [{ name: 'top.txt', content: 'top' }], { path: 'data/' });
      const data = await app.get('/files?path=/data', { token: user.token });
      expect(data.body.folders.map((f: { name: string; path: string }) => [f.name, f.path])).toEqual([['raw', '/data/raw']]);
      expect(data.body.files.map((f: { filename: string }) => f.filename)).toEqual(['top.txt']);
      const page = await app.get('/files?path=/data/raw&limit=2&page=2', { token: user.token });
      expect(page.body.files.map((f: { filename: string }) => f.filename)).toEqual(['pixel.png']);
      expect(page.body.pagination).toEqual({ total: 3, page: 2, limit: 2, pages: 2 });
      expect((await app.get('/files?path=/nowhere', { token: user.token })).body).toMatchObject({ folders: [], files: [], pagination: { total: 0 } });
    });

    it('refuses bad names and paths with 400 and stores nothing', async () => {
      const user = await app.registerUser();
      const cases: [Part[], Record<string, string>][] = [
        [[{ name: '../evil.txt', content: 'x' }], {}],
        [[{ name: 'a..b.txt', content: 'x' }], {}],
        [[{ name: 'a\\b.txt', content: 'x' }], {}],
        [[{ name: 'a\u2215b.txt', content: 'x' }], {}],
        [[{ name: `${'x'.repeat(256)}`, content: 'x' }], {}],
        [[{ name: 'bell\u0007.txt', content: 'x' }], {}],
        [[{ name: 'rtl\u202etxt.exe', content: 'x' }], {}],
        [[{ name: 'ok.txt', content: 'x' }], { path: '../up' }],
        [[{ name: 'ok.txt', content: 'x' }], { path: '/a/../b' }],
        [[{ name: 'ok.txt', content: 'x' }], { path: '/a//b' }],
        [[{ name: 'ok.txt', content: 'x' }], { path: '/a/\u0000/b' }],
        [[{ name: 'ok.txt', content: 'x' }], { path: `/${'d/'.repeat(520)}` }],
        [[{ name: 'same.txt', content: 'x' }, { name: 'same.txt', content: 'y' }], {}],
        [[{ name: 'ok.txt', content: 'x' }], { project_id: 'not-a-uuid' }],
      ];
      for (const [parts, fields] of cases) {
        const response = await upload(user.token, parts, fields);
        expect({ parts: parts.map((p) => p.name), fields, status: response.status, code: response.body?.error?.code }).toEqual({
          parts: parts.map((p) => p.name), fields, status: 400, code: expect.stringMatching(/^(BAD_REQUEST|VALIDATION_ERROR)$/),
        });
      }
      expect((await app.query('SELECT count(*)::int AS n FROM files WHERE user_id = $1', [user.id])).rows[0].n).toBe(0);
      expect(readdirSync(stagingDir())).toEqual([]);

      // %2e%2e is not decoded: it is a literal (odd, harmless) name. Names are stored in NFC.
      const literal = await upload(user.token, [{ name: 'e\u0301%2e%2e.txt', content: 'x' }], { path: '%2e%2e' });
      expect(literal.status).toBe(201);
      expect(literal.body.files[0]).toMatchObject({ filename: '\u00e9%2e%2e.txt', path: '/%2e%2e' });
      const got = await download(user.token, literal.body.files[0].id);
      expect(got.headers.get('content-disposition')).toBe(`attachment; filename="__2e_2e.txt"; filename*=UTF-8''%C3%A9%252e%252e.txt`);
    });

    it('answers 401 without a token, 415 for a non-multipart body, 400 for an upload without a file', async () => {
      expect((await upload(undefined, [{ name: 'a.txt', content: 'a' }])).status).toBe(401);
      const user = await app.registerUser();
      const json = await app.post('/files/upload', { file: 'a' }, { token: user.token });
      expect(json.status).toBe(415);
      expect(json.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      // multipart/form-data without a boundary: a malformed body, not a server fault.
      const noBoundary = await app.request('POST', '/files/upload', { token: user.token, body: '{"x":"\u00c0"}', headers: { 'content-type': 'multipart/form-data' } });
      expect(noBoundary.status).toBe(400);
      const noFile = await upload(user.token, [], { path: '/x' });
      expect(noFile.status).toBe(400);
      // A multipart body where a route takes JSON.
      const form = new FormData();
      form.append('title', 'x');
      const wrong = await fetch(`${app.url}/api/v1/code-library`, { method: 'POST', body: form, headers: { authorization: `Bearer ${user.token}` } });
      expect(wrong.status).toBe(415);
      expect(((await wrong.json()) as any).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 403 to an API key (files and projects take a user login)', async () => {
      const user = await app.registerUser();
      const key = await app.post('/api-keys', { name: 'files', scopes: ['*'] }, { token: user.token });
      expect(key.status).toBe(201);
      const form = new FormData();
      form.append('file', new Blob(['a']), 'a.txt');
      const byKey = await fetch(`${app.url}/api/v1/files/upload`, { method: 'POST', body: form, headers: { 'x-api-key': key.body.key } });
      expect(byKey.status).toBe(403);
      for (const path of ['/files', '/projects']) {
        const listed = await app.get(path, { apiKey: key.body.key });
        expect([path, listed.status, listed.body.error?.code]).toEqual([path, 403, 'FORBIDDEN']);
      }
      expect((await app.query('SELECT count(*)::int AS n FROM files WHERE user_id = $1', [user.id])).rows[0].n).toBe(0);
    });

    it('tells types by content: 415 INVALID_FILE_TYPE for binary not on the list, whatever the name', async () => {
      const user = await app.registerUser();
      const exe = Buffer.concat([Buffer.from('MZ'), randomBytes(4000)]);
      for (const part of [{ name: 'notes.txt', content: exe }, { name: 'random.bin', content: randomBytes(5000) }, { name: 'nul.txt', content: 'a\u0000b' }]) {
        const response = await upload(user.token, [part]);
        expect(response.status).toBe(415);
        expect(response.body.error.code).toBe('INVALID_FILE_TYPE');
      }
      // One bad file in a batch: nothing of the batch is stored.
      const batch = await upload(user.token, [{ name: 'good.txt', content: 'fine' }, { name: 'bad.txt', content: randomBytes(100) }]);
      expect(batch.status).toBe(415);
      expect((await app.get('/files', { token: user.token })).body.files).toEqual([]);
      expect(await usedBytes(user.id)).toBe(0);
    });

    it('answers 409 for a name already in the folder, and replaces with overwrite=true', async () => {
      const user = await app.registerUser();
      const first = await upload(user.token, [{ name: 'v.txt', content: 'one' }]);
      const again = await upload(user.token, [{ name: 'v.txt', content: 'two!' }]);
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('CONFLICT');
      const replaced = await upload(user.token, [{ name: 'v.txt', content: 'two!' }], { overwrite: 'true' });
      expect(replaced.status).toBe(201);
      expect(replaced.body.files[0]).toMatchObject({ id: first.body.files[0].id, size: 4, hash: sha256('two!') });
      expect(await usedBytes(user.id)).toBe(4);
      expect(await blobRow(sha256('one'))).toBeUndefined();
      expect((await download(user.token, first.body.files[0].id)).bytes.toString()).toBe('two!');
    });

    it('makes folders: 201, 409 when the name is taken (by a folder or a file), 400 for bad names', async () => {
      const user = await app.registerUser();
      const made = await app.post('/files/mkdir', { path: '/p/q', name: 'r' }, { token: user.token });
      expect(made.status).toBe(201);
      expect(made.body.folder).toMatchObject({ name: 'r', path: '/p/q/r' });
      expect((await app.post('/files/mkdir', { path: '/p/q', name: 'r' }, { token: user.token })).status).toBe(409);
      await upload(user.token, [{ name: 'f.txt', content: 'f' }], { path: '/p' });
      expect((await app.post('/files/mkdir', { path: '/p', name: 'f.txt' }, { token: user.token })).status).toBe(409);
      // A file where a folder of the path would be.
      expect((await upload(user.token, [{ name: 'g.txt', content: 'g' }], { path: '/p/f.txt/deeper' })).status).toBe(409);
      for (const name of ['..', 'a/b', '', 'x\u0000']) expect((await app.post('/files/mkdir', { path: '/', name }, { token: user.token })).status).toBe(400);
      expect((await app.post('/files/mkdir', { path: '/', name: null }, { token: user.token })).status).toBe(400);
      const root = await app.get('/files', { token: user.token });
      expect(root.body.folders.map((f: { name: string }) => f.name)).toEqual(['p']);
    });

    it('stores the same contents once: delete one copy, the blob stays; delete the last, it is gone', async () => {
      const a = await app.registerUser();
      const b = await app.registerUser();
      const content = `shared ${randomBytes(8).toString('hex')}`;
      const hash = sha256(content);
      const fa = (await upload(a.token, [{ name: 'x.txt', content }])).body.files[0];
      const fb = (await upload(b.token, [{ name: 'y.txt', content }])).body.files[0];
      expect(fa.hash).toBe(hash);
      expect(await blobRow(hash)).toEqual({ ref_count: 2 });
      expect((await app.delete(`/files/${fa.id}`, { token: a.token })).body).toEqual({ success: true, deleted_files: 1, freed_bytes: content.length });
      expect(await blobRow(hash)).toEqual({ ref_count: 1 });
      expect((await download(b.token, fb.id)).bytes.toString()).toBe(content);
      expect((await app.delete(`/files/${fb.id}`, { token: b.token })).status).toBe(200);
      expect(await blobRow(hash)).toBeUndefined();
      if (label === 'local') expect(existsSync(join(app.running.config.dataDir, 'files', hash.slice(0, 2), hash.slice(2, 4), hash))).toBe(false);
      expect(await usedBytes(a.id)).toBe(0);
    });

    it('deletes folders: 409 when not empty, recursive=true removes everything under it', async () => {
      const user = await app.registerUser();
      await upload(user.token, [{ name: '1.txt', content: 'one' }, { name: '2.txt', content: 'two' }], { path: '/tree/sub' });
      await upload(user.token, [{ name: 'keep.txt', content: 'keep' }], { path: '/tree_' });
      const tree = (await app.get('/files', { token: user.token })).body.folders.find((f: { name: string }) => f.name === 'tree');
      const refused = await app.delete(`/files/${tree.id}`, { token: user.token });
      expect(refused.status).toBe(409);
      const removed = await app.delete(`/files/${tree.id}?recursive=true`, { token: user.token });
      expect(removed.body).toEqual({ success: true, deleted_files: 2, freed_bytes: 6 });
      const left = await app.query(`SELECT folder, name FROM files WHERE user_id = $1 ORDER BY folder, name`, [user.id]);
      expect(left.rows).toEqual([{ folder: '/', name: 'tree_' }, { folder: '/tree_', name: 'keep.txt' }]);
      expect(await usedBytes(user.id)).toBe(4);
      const empty = (await app.post('/files/mkdir', { name: 'empty' }, { token: user.token })).body.folder;
      expect((await app.delete(`/files/${empty.id}`, { token: user.token })).body).toEqual({ success: true, deleted_files: 0, freed_bytes: 0 });
    });

    it("answers 404 for another user's file; an admin may read and delete it", async () => {
      const owner = await app.registerUser();
      const other = await app.registerUser();
      const file = (await upload(owner.token, [{ name: 'secret.txt', content: 'secret' }])).body.files[0];
      expect((await download(other.token, file.id)).status).toBe(404);
      expect((await app.delete(`/files/${file.id}`, { token: other.token })).status).toBe(404);
      expect((await app.get(`/files/00000000-0000-4000-8000-000000000000/download`, { token: other.token })).status).toBe(404);
      expect((await app.get(`/files/not-a-uuid/download`, { token: other.token })).status).toBe(400);
      expect((await download(admin, file.id)).bytes.toString()).toBe('secret');
      expect((await app.delete(`/files/${file.id}`, { token: admin })).status).toBe(200);
      expect(await usedBytes(owner.id)).toBe(0);
    });

    it('serves ranges (206, 416) and validators (304)', async () => {
      const user = await app.registerUser();
      const content = '0123456789';
      const file = (await upload(user.token, [{ name: 'digits.txt', content }])).body.files[0];
      const cases: [string, number, string, string | null][] = [
        ['bytes=0-3', 206, '0123', 'bytes 0-3/10'],
        ['bytes=7-', 206, '789', 'bytes 7-9/10'],
        ['bytes=-2', 206, '89', 'bytes 8-9/10'],
        ['bytes=5-100', 206, '56789', 'bytes 5-9/10'],
        ['bytes=0-1,4-5', 200, content, null],
        ['items=0-1', 200, content, null],
      ];
      for (const [range, status, body, contentRange] of cases) {
        const got = await download(user.token, file.id, { range });
        expect({ range, status: got.status, body: got.bytes.toString(), contentRange: got.headers.get('content-range') }).toEqual({ range, status, body, contentRange });
      }
      const past = await download(user.token, file.id, { range: 'bytes=10-' });
      expect(past.status).toBe(416);
      expect(past.headers.get('content-range')).toBe('bytes */10');
      const etag = `"${sha256(content)}"`;
      expect((await download(user.token, file.id, { 'if-none-match': etag })).status).toBe(304);
      expect((await download(user.token, file.id, { 'if-none-match': '"other"' })).status).toBe(200);
      const nonAscii = (await upload(user.token, [{ name: 'résumé 2026.txt', content: 'cv' }])).body.files[0];
      expect((await download(user.token, nonAscii.id)).headers.get('content-disposition')).toBe(
        `attachment; filename="r_sum_ 2026.txt"; filename*=UTF-8''r%C3%A9sum%C3%A9%202026.txt`,
      );
    });

    it('answers 413 FILE_TOO_LARGE past the plan\'s per-file limit, and Node\'s fetch receives it', async () => {
      const saved = await setFreePlan({ max_upload_bytes: 1024 * 1024 });
      try {
        const user = await app.registerUser();
        const response = await upload(user.token, [{ name: 'big.txt', content: Buffer.alloc(3 * 1024 * 1024, 'a') }]);
        expect(response.status).toBe(413);
        expect(response.body.error).toMatchObject({ code: 'FILE_TOO_LARGE', details: { filename: 'big.txt', limit_bytes: 1024 * 1024 } });
        expect(await usedBytes(user.id)).toBe(0);
        expect((await app.query('SELECT count(*)::int AS n FROM files WHERE user_id = $1', [user.id])).rows[0].n).toBe(0);
        expect(readdirSync(stagingDir())).toEqual([]);
        // The connection is still usable, and an upload within the limit works.
        expect((await upload(user.token, [{ name: 'small.txt', content: 'small' }])).status).toBe(201);
      } finally {
        await setFreePlan(saved);
      }
    });

    it('counts storage exactly: of two parallel uploads at the quota\'s edge, one wins', async () => {
      const saved = await setFreePlan({ storage_bytes: 10_000 });
      try {
        const user = await app.registerUser();
        expect((await upload(user.token, [{ name: 'base.txt', content: 'b'.repeat(4000) }])).status).toBe(201);
        const [one, two] = await Promise.all([
          upload(user.token, [{ name: 'one.txt', content: '1'.repeat(5000) }]),
          upload(user.token, [{ name: 'two.txt', content: '2'.repeat(5000) }]),
        ]);
        expect([one.status, two.status].sort()).toEqual([201, 413]);
        const refused = one.status === 413 ? one : two;
        expect(refused.body.error.code).toBe('STORAGE_QUOTA_EXCEEDED');
        expect(await usedBytes(user.id)).toBe(9000);
        const sum = await app.query('SELECT coalesce(sum(size), 0)::int AS n FROM files WHERE user_id = $1', [user.id]);
        expect(sum.rows[0].n).toBe(9000);
      } finally {
        await setFreePlan(saved);
      }
    });

    it('leaves nothing behind when the client goes away mid-upload', async () => {
      const user = await app.registerUser();
      const boundary = 'cut-boundary';
      const controller = new AbortController();
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\nContent-Type: text/plain\r\n\r\n`;
      const body = new ReadableStream({
        async start(stream) {
          stream.enqueue(new TextEncoder().encode(head));
          stream.enqueue(new Uint8Array(256 * 1024).fill(97));
          await new Promise((resolve) => setTimeout(resolve, 300));
          controller.abort();
        },
      });
      await fetch(`${app.url}/api/v1/files/upload`, {
        method: 'POST', body, signal: controller.signal, duplex: 'half',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      } as RequestInit).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(readdirSync(stagingDir())).toEqual([]);
      expect((await app.query('SELECT count(*)::int AS n FROM files WHERE user_id = $1', [user.id])).rows[0].n).toBe(0);
    });

    it('streams a 64 MB upload without holding it in memory', async () => {
      // The client is curl in a process of its own, reading the file from disk: what grows here is the server.
      const size = 64 * 1024 * 1024;
      const path = join(mkdtempSync(join(tmpdir(), 'upload-')), 'big.txt');
      const digest = createHash('sha256');
      const block = Buffer.from(randomBytes(48 * 1024).toString('base64'));
      await new Promise<void>((resolve, reject) => {
        const out = createWriteStream(path);
        out.on('error', reject).on('finish', resolve);
        for (let written = 0; written < size; written += block.length) {
          const piece = block.subarray(0, Math.min(block.length, size - written));
          digest.update(piece);
          out.write(piece);
        }
        out.end();
      });
      global.gc?.();
      const before = process.memoryUsage().rss;
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
      const curl = spawn('curl', ['-sS', '-F', `file=@${path}`, '-H', `authorization: Bearer ${admin}`, `${app.url}/api/v1/files/upload`]);
      let output = '';
      curl.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      curl.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const code = await new Promise((resolve) => curl.on('close', resolve));
      clearInterval(sampler);
      rmSync(path, { force: true });
      expect(code).toBe(0);
      const answer = JSON.parse(output);
      expect(answer.files[0]).toMatchObject({ size, hash: digest.digest('hex'), mime_type: 'text/plain' });
      // Far less than the file: its bytes went through in chunks. (With S3 the test's S3 server runs in
      // this process too and keeps parts in memory, so only the local store is measured here.)
      if (label === 'local') expect(peak - before).toBeLessThan(size / 4);
      const got = await download(admin, answer.files[0].id, { range: `bytes=${size - 10}-` });
      expect(got.bytes).toEqual(block.subarray((size % block.length || block.length) - 10, size % block.length || block.length));
    });
  });
}

filesSuite('local', async () => ({ env: {} }));
filesSuite('S3', async () => {
  const s3 = await startS3Server();
  return { env: s3.env, stop: () => s3.stop() };
});
