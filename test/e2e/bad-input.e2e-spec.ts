import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAX_JSON_DEPTH } from '../../src/common/http/body-parsers';
import { MAX_PAGE } from '../../src/common/http/pagination';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Bad input of every kind answers a 4xx in the error envelope, never a 5xx and
 * never a body Fastify or Node writes on its own: deep JSON, huge page numbers,
 * invalid Unicode and percent-encoding, null for fields that cannot be null,
 * arrays where objects belong, oversize headers, bodies of the wrong type or size.
 */

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** JSON objects nested `depth` levels deep: {"a":{"a":...1...}}. */
function nestedObjects(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Sends bytes as they are (fetch would refuse or fix them) and reads the answer until the server closes the connection. */
function rawRequest(url: string, bytes: string): Promise<ApiResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = new Headers(lines.map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as [string, string]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: JSON.parse(text.slice(end + 4)) });
    });
  });
}

describe('Bad input answers 4xx in the error envelope', () => {
  let app: TestApp;
  let admin: string;
  let user: Awaited<ReturnType<TestApp['registerUser']>>;
  let codeReadKey: string;

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    user = await app.registerUser();
    const key = await app.post('/api-keys', { name: 'reader', scopes: ['code:read'] }, { token: admin });
    expect(key.status).toBe(201);
    codeReadKey = key.body.key;
  });
  afterAll(() => app.stop());

  describe('JSON nesting is capped when the body is parsed', () => {
    it(`answers 400 BAD_REQUEST for JSON nested deeper than ${MAX_JSON_DEPTH} levels, on anonymous and authenticated operations`, async () => {
      const deep = `${'['.repeat(3000)}${']'.repeat(3000)}`;
      expectError(await app.post('/auth/login', deep), 400, 'BAD_REQUEST');
      expectError(await app.post('/auth/register', nestedObjects(10_000)), 400, 'BAD_REQUEST');
      expectError(await app.post('/code-library', deep, { token: user.token }), 400, 'BAD_REQUEST');
      expectError(await app.post('/execute', nestedObjects(MAX_JSON_DEPTH + 1), { token: user.token }), 400, 'BAD_REQUEST');
    });

    it(`parses JSON up to ${MAX_JSON_DEPTH} levels, and brackets inside strings do not count`, async () => {
      expectValidation(await app.post('/auth/login', nestedObjects(MAX_JSON_DEPTH)), 'a');
      const brackets = '[{'.repeat(2000);
      const created = await app.post('/code-library', { title: 'Brackets', code: `s = "${brackets}\\"[["`, description: `\\"${brackets}` }, { token: user.token });
      expect(created.status).toBe(201);
      expect(created.body.code).toBe(`s = "${brackets}\\"[["`);
    });

    it('keeps refusing prototype-poisoning keys', async () => {
      expectError(await app.post('/auth/login', '{"__proto__":{"admin":true},"username":"x","password":"y"}'), 400, 'BAD_REQUEST');
      expectError(await app.post('/auth/login', '{"constructor":{"prototype":{"admin":true}}}'), 400, 'BAD_REQUEST');
    });
  });

  describe('pagination is bounded', () => {
    const lists = [
      '/code-library', '/codes', '/admin/users', '/api-keys', '/executions', '/admin/executions',
      '/user-environments', '/admin/user-environments', '/profile/logs', '/admin/logs',
    ];
    const auth = (path: string) => (path === '/codes' ? { apiKey: codeReadKey } : { token: admin });

    it.each(lists)('%s answers 400 VALIDATION_ERROR for a page or limit out of range, and serves the last page allowed', async (path) => {
      expectValidation(await app.get(`${path}?page=99999999999999999999`, auth(path)), 'page');
      expectValidation(await app.get(`${path}?page=${MAX_PAGE + 1}`, auth(path)), 'page');
      expectValidation(await app.get(`${path}?page=0`, auth(path)), 'page');
      expectValidation(await app.get(`${path}?limit=101`, auth(path)), 'limit');
      const last = await app.get(`${path}?page=${MAX_PAGE}&limit=100`, auth(path));
      expect(last.status).toBe(200);
      expect(last.body.pagination).toMatchObject({ page: MAX_PAGE, limit: 100 });
    });

    it('answers 400 VALIDATION_ERROR for dates PostgreSQL cannot store', async () => {
      expectValidation(await app.get('/executions?from=-100000-01-01T00:00:00Z', { token: user.token }), 'from');
      expectValidation(await app.get('/admin/logs?to=%2B100000-01-01T00:00:00Z', { token: admin }), 'to');
      expectValidation(await app.post('/api-keys', { name: 'far', expires_at: '+100000-01-01T00:00:00Z' }, { token: admin }), 'expires_at');
    });
  });

  describe('invalid Unicode and percent-encoding', () => {
    it('answers 400 BAD_REQUEST for a lone UTF-16 surrogate anywhere in a JSON body (register, admin create and update)', async () => {
      const email = '"x\\ud800y@example.com"';
      expectError(await app.post('/auth/register', `{"username":"surrogate_1","email":${email},"password":"password-123"}`), 400, 'BAD_REQUEST');
      expectError(await app.post('/admin/users', `{"username":"surrogate_2","email":${email},"password":"password-123"}`, { token: admin }), 400, 'BAD_REQUEST');
      expectError(await app.put(`/admin/users/${user.id}`, `{"email":${email}}`, { token: admin }), 400, 'BAD_REQUEST');
      expectError(await app.put(`/admin/users/${user.id}`, '{"name":"low \\uDC00 only"}', { token: admin }), 400, 'BAD_REQUEST');
      expectError(await app.post('/code-library', '{"title":"t","code":"c","tags":["ok","\\udbff"]}', { token: user.token }), 400, 'BAD_REQUEST');
      expectError(await app.post('/code-library', '{"title":"t","code":"c","\\ud800":1}', { token: user.token }), 400, 'BAD_REQUEST');
    });

    it('accepts surrogate pairs and a literal backslash-u text', async () => {
      const created = await app.post('/code-library', '{"title":"smile \\ud83d\\ude00","code":"print(\\"\\\\ud800\\")"}', { token: user.token });
      expect(created.status).toBe(201);
      expect(created.body.title).toBe('smile \u{1F600}');
      expect(created.body.code).toBe('print("\\ud800")');
    });

    it('answers 400 BAD_REQUEST for a query string with bad percent-encoding (invalid UTF-8, a surrogate, a lone %)', async () => {
      for (const query of ['q=%ed%a0%80', 'q=%ff', 'q=100%', 'tag=%C3']) {
        expectError(await app.get(`/code-library?${query}`, { token: user.token }), 400, 'BAD_REQUEST');
      }
      const ok = await app.get('/code-library?q=caf%C3%A9&tag=a%20b', { token: user.token });
      expect(ok.status).toBe(200);
    });

    it('answers 400 BAD_REQUEST for path parameters with bad percent-encoding', async () => {
      expectError(await app.get('/code-library/%ed%a0%80', { token: user.token }), 400, 'BAD_REQUEST');
      expectError(await app.put('/admin/plans/%ff', { name: 'x' }, { token: admin }), 400, 'BAD_REQUEST');
    });
  });

  describe('null for fields that may be left out but not null', () => {
    it('answers 400 VALIDATION_ERROR naming the field', async () => {
      expectValidation(await app.post('/code-library/save', { code_id: null }, { token: user.token }), 'code_id');
      expectValidation(await app.post('/code-library', { title: 't', code: 'c', language: null, tags: null }, { token: user.token }), 'language', 'tags');
      expectValidation(await app.post('/execute', { code: 'print(1)', timeout_ms: null, files: null }, { token: user.token }), 'timeout_ms', 'files');
      expectValidation(await app.post('/auth/register', { username: 'nullname', email: 'nullname@example.test', password: 'password-123', name: null }), 'name');
      expectValidation(await app.post('/api-keys', { name: 'k', scopes: null, expires_at: null }, { token: admin }), 'scopes', 'expires_at');
      expectValidation(await app.put(`/admin/users/${user.id}`, { role: null, level: null }, { token: admin }), 'role', 'level');
      expectValidation(await app.put('/admin/plans/free', { execution_memory_mb: null }, { token: admin }), 'execution_memory_mb');
    });

    it('still takes null where it means something (clearing a name, detaching an environment, an unlimited plan limit)', async () => {
      const cleared = await app.put(`/admin/users/${user.id}`, { name: null, avatar_url: null }, { token: admin });
      expect(cleared.status).toBe(200);
      expect(cleared.body.name).toBeNull();
      const snippet = await app.post('/code-library', { title: 't', code: 'c' }, { token: user.token });
      const detached = await app.put(`/code-library/${snippet.body.id}`, { environment_id: null }, { token: user.token });
      expect(detached.status).toBe(200);
      expect(detached.body.environment_id).toBeNull();
      const plan = await app.put('/admin/plans/enterprise', { deployments_per_day: null }, { token: admin });
      expect(plan.status).toBe(200);
      expect(plan.body.deployments_per_day).toBeNull();
    });
  });

  describe('arrays of objects', () => {
    it.each(['/execute', '/execute/stream'])('%s answers 400 VALIDATION_ERROR for arrays, scalars or null among files and tests', async (path) => {
      expectValidation(await app.post(path, { code: 'print(1)', files: [[]] }, { token: user.token }), 'files');
      expectValidation(await app.post(path, { code: 'print(1)', tests: [[]] }, { token: user.token }), 'tests');
      expectValidation(await app.post(path, { code: 'print(1)', files: ['util.py'], tests: [null] }, { token: user.token }), 'files', 'tests');
    });
  });

  describe('errors Node raises before there is a request', () => {
    it('answers 431 HEADERS_TOO_LARGE in the envelope for headers, or a path and query, over 16 KB', async () => {
      const host = `Host: ${new URL(app.url).host}\r\n`;
      const bigHeader = await rawRequest(app.url, `GET /api/v1/health HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(17_000)}\r\n\r\n`);
      const bigQuery = await rawRequest(app.url, `GET /api/v1/health?x=${'a'.repeat(17_000)} HTTP/1.1\r\n${host}\r\n`);
      for (const response of [bigHeader, bigQuery]) {
        expectError(response, 431, 'HEADERS_TOO_LARGE');
        expect(response.headers.get('x-request-id')).toBe(response.body.error.request_id);
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('connection')).toBe('close');
      }
      // The same through fetch.
      expectError(await app.get('/health', { headers: { 'x-big': 'a'.repeat(17_000) } }), 431, 'HEADERS_TOO_LARGE');
    });

    it('answers 400 BAD_REQUEST in the envelope for a request that is not HTTP', async () => {
      expectError(await rawRequest(app.url, 'GARBAGE\r\n\r\n'), 400, 'BAD_REQUEST');
      expectError(await rawRequest(app.url, 'GET /api/v1/health HTTP/1.1\r\nBad Header\r\n\r\n'), 400, 'BAD_REQUEST');
    });
  });

  describe('the OpenAPI document and the routes agree', () => {
    it('documents / (health), not /api/v1, which is not served', async () => {
      const doc = await app.get('/openapi.json');
      expect(Object.keys(doc.body.paths)).toContain('/');
      expect(Object.keys(doc.body.paths)).not.toContain('/api/v1');
      expectError(await app.get('/api/v1'), 404, 'NOT_FOUND');
    });

    it('routes every documented operation (none answers "Route not found")', async () => {
      const doc = await app.get('/openapi.json');
      const unrouted: string[] = [];
      for (const [path, operations] of Object.entries<Record<string, unknown>>(doc.body.paths)) {
        for (const method of Object.keys(operations)) {
          // Anonymous and without a body: answered by a guard or by validation, never run.
          const response = await app.request(method.toUpperCase(), path.replace(/\{[^}]+\}/g, UNKNOWN_ID));
          if (response.status === 404 && response.body?.error?.message === 'Route not found') unrouted.push(`${method} ${path}`);
        }
      }
      expect(unrouted).toEqual([]);
    });
  });

  describe('bodies of the wrong type', () => {
    it('answers 415 UNSUPPORTED_MEDIA_TYPE for a form body on JSON operations, and takes one at /auth/token', async () => {
      const form = { username: 'admin', password: 'admin-password-123' };
      expectError(await app.request('POST', '/auth/login', { form }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectError(await app.request('POST', '/auth/register', { form: { ...form, email: 'f@example.test' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectError(await app.request('POST', '/code-library', { form: { title: 't', code: 'c' }, token: user.token }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      const token = await app.request('POST', '/auth/token', { form: { grant_type: 'password', ...form } });
      expect(token.status).toBe(200);
      // The token endpoint answers in OAuth2's shape (RFC 6749 §5.2): a wrong password is invalid_grant.
      expect(await app.request('POST', '/auth/token', { form: { grant_type: 'password', username: 'admin', password: 'x%' } })).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    });

    it('answers 400 BAD_REQUEST for a form body with bad percent-encoding at /auth/token', async () => {
      const response = await app.post('/auth/token', 'grant_type=password&username=%ff&password=x', { headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expectError(response, 400, 'BAD_REQUEST');
    });

    it('answers 415 UNSUPPORTED_MEDIA_TYPE for text/plain and other non-JSON types, and 404 for unknown routes whatever the body', async () => {
      expectError(await app.post('/auth/login', 'username=admin', { headers: { 'content-type': 'text/plain' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      expectError(await app.request('POST', '/no-such-route', { form: { a: 'b' } }), 404, 'NOT_FOUND');
    });

    it('answers 400 VALIDATION_ERROR for a JSON body that is not an object (null, an array, a string, a number)', async () => {
      const key = await app.post('/api-keys', { name: 'toggled' }, { token: admin });
      for (const body of ['null', '[]', '"x"', '1', 'true']) {
        expectValidation(await app.post('/auth/register', body), 'body');
        // Every field of this one is optional: an object-less body must not pass as {}.
        expectValidation(await app.put(`/api-keys/${key.body.id}/toggle`, body, { token: admin }), 'body');
      }
      // No body at all still means "no fields".
      const flipped = await app.request('PUT', `/api-keys/${key.body.id}/toggle`, { token: admin });
      expect(flipped.status).toBe(200);
      expect(flipped.body.enabled).toBe(false);
    });

    it('answers 400 VALIDATION_ERROR for a login with a non-string email beside the username', async () => {
      expectValidation(await app.post('/auth/login', { username: 'admin', email: 123, password: 'admin-password-123' }), 'email');
      expectValidation(await app.post('/auth/login', { username: null, email: 'admin@example.test', password: 'admin-password-123' }), 'username');
      expectValidation(await app.post('/auth/login', { password: 'admin-password-123' }), 'username');
      const byEmail = await app.post('/auth/login', { email: 'admin@example.test', password: 'admin-password-123' });
      expect(byEmail.status).toBe(200);
    });
  });

  describe('a body over the limit', () => {
    const size = 5 * 1024 * 1024; // BODY_LIMIT_BYTES is 1 MB

    it('is answered 413 PAYLOAD_TOO_LARGE that fetch reads (no connection reset), and the connection stays usable', async () => {
      // Closing at once made about one in three of these fail with EPIPE on loopback.
      for (let i = 0; i < 5; i++) {
        expectError(await app.post('/auth/login', `"${'a'.repeat(size)}"`), 413, 'PAYLOAD_TOO_LARGE');
      }
      expect((await app.get('/health')).status).toBe(200);
    });

    it('is answered 413 PAYLOAD_TOO_LARGE that curl --data-binary reads', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'coderunner-body-'));
      try {
        const file = join(dir, 'body.json');
        writeFileSync(file, `"${'a'.repeat(size)}"`);
        for (let i = 0; i < 5; i++) {
          const { stdout } = await promisify(execFile)('curl', [
            '-sS', '-o', '-', '-w', '\n%{http_code}', '-H', 'content-type: application/json', '--data-binary', `@${file}`, `${app.url}/api/v1/auth/login`,
          ]);
          const [body, status] = stdout.split('\n');
          expect(status).toBe('413');
          expect(JSON.parse(body).error.code).toBe('PAYLOAD_TOO_LARGE');
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('closes the connection of a client that stops sending the rest of a refused body', async () => {
      const socket = connect(Number(new URL(app.url).port), '127.0.0.1');
      let answer = '';
      socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
      const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())));
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(`POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${size * 4}\r\n\r\n"`);
      socket.write('a'.repeat(size * 2));
      // Then nothing more: the answer arrives, and the server lets the connection go a few seconds later.
      const stalled = Date.now();
      const closedAt = await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 413/);
      expect(answer).toContain('PAYLOAD_TOO_LARGE');
      expect(closedAt - stalled).toBeLessThan(15_000);
    }, 30_000);
  });
});
