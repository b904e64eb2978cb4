import { randomUUID } from 'node:crypto';
import { HTTP_STATUS_BY_CODE } from '../../src/common/errors/error-code';
import { ADMIN, ApiResponse, TestApp } from '../support/test-app';

/**
 * What Swagger UI shows a new user: every documented example works as it
 * stands, every response says what it is, public operations say so, and each
 * error example is one the app really answers for that status.
 */

interface Operation {
  method: string;
  path: string;
  summary?: string;
  parameters?: Array<{ name: string; in: string; example?: unknown; schema?: { example?: unknown } }>;
  requestBody?: { content: Record<string, { example?: Record<string, string> }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: { $ref?: string }; example?: any; examples?: Record<string, { value: any }> }> }>;
  security?: Array<Record<string, string[]>>;
}

/** Operations that end sessions or change the password run last, so the others keep a working login. */
const ONE_PIXEL_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

/** POSTs a multipart body built from the schema: a PNG for each file property, the default of each text one. */
async function sendMultipart(url: string, token: string | undefined, schema: { properties?: Record<string, any> }): Promise<ApiResponse> {
  const form = new FormData();
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const binary = property.format === 'binary' || property.items?.format === 'binary';
    if (binary) form.append(name, new Blob([ONE_PIXEL_PNG], { type: 'image/png' }), 'pixel.png');
    else if (property.default !== undefined) form.append(name, String(property.default));
  }
  const response = await fetch(url, { method: 'POST', body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : text };
}

const LAST = ['POST /api/v1/auth/logout', 'POST /api/v1/auth/logout-all', 'POST /api/v1/auth/change-password'];

/** A refresh token, or a snippet to copy, cannot be named in advance: their examples show the shape only. */
const NEEDS_A_REAL_VALUE: Record<string, number> = {
  'POST /api/v1/auth/refresh': 401,
  'POST /api/v1/code-library/save': 404,
  // Monitoring starts for a server of one's own: the example's id is no one's.
  'POST /api/v1/monitor/servers': 404,
  // A new user has no AI config and the seeded providers no platform key: the answer says what to configure.
  'POST /api/v1/ai/chat': 400,
  'POST /api/v1/ai/chat/stream': 400,
  'POST /api/v1/ai/generate-code': 400,
  'POST /v1/chat/completions': 400,
};

describe('The OpenAPI document (Swagger UI)', () => {
  let app: TestApp;
  let operations: Operation[];
  beforeAll(async () => {
    app = await TestApp.start();
    const document = (await app.get('/openapi.json')).body;
    operations = Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ ...operation, method: method.toUpperCase(), path })),
    );
  });
  afterAll(() => app.stop());

  const idOf = (op: Operation) => `${op.method} ${op.path}`;

  it('describes every response, with summaries in plain text', () => {
    expect(operations.length).toBeGreaterThan(50);
    const undescribed = operations.flatMap((op) => Object.entries(op.responses).filter(([, r]) => !r.description).map(([status]) => `${idOf(op)} ${status}`));
    expect(undescribed).toEqual([]);
    // Swagger UI renders summaries as text: markdown belongs in descriptions.
    expect(operations.filter((op) => /`|\*\*/.test(op.summary ?? '')).map(idOf)).toEqual([]);
  });

  it('gives each error response an example of its own status: the envelope with a matching code, or OAuth2 at /auth/token', () => {
    const wrong: string[] = [];
    for (const op of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        const media = response.content?.['application/json'];
        // The health check's 503 is Terminus's own body, not an error of the app.
        if (Number(status) < 400 || !media || !/\/(ErrorResponse|OAuth2ErrorResponse)$/.test(media.schema?.$ref ?? '')) continue;
        const examples = media.example !== undefined ? [media.example] : Object.values(media.examples ?? {}).map((e) => e.value);
        if (examples.length === 0) wrong.push(`${idOf(op)} ${status}: no example`);
        for (const example of examples) {
          const oauth2 = op.path === '/api/v1/auth/token' && typeof example.error === 'string';
          const matches = oauth2 ? ['400', '429'].includes(status) : HTTP_STATUS_BY_CODE[example.error?.code as keyof typeof HTTP_STATUS_BY_CODE] === Number(status);
          if (!matches) wrong.push(`${idOf(op)} ${status}: ${JSON.stringify(example)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    const me = operations.find((op) => idOf(op) === 'GET /api/v1/users/me')!;
    expect(me.responses['429'].content!['application/json'].example.error).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after: expect.any(Number) } });
    expect(me.responses['500'].content!['application/json'].example.error.code).toBe('INTERNAL_ERROR');
  });

  it('marks public operations with `security: []`, and they answer without credentials', async () => {
    const open = operations.filter((op) => op.security?.length === 0);
    expect(open.map(idOf)).toEqual(expect.arrayContaining(['POST /api/v1/auth/login', 'GET /api/v1/runtimes']));
    for (const op of operations) expect(op.security).toBeDefined();
    for (const op of open.filter((o) => o.method === 'GET')) {
      const status = (await app.get(op.path)).status;
      // A path naming a resource ({filename}) finds none: 404, but never 401.
      expect([idOf(op), status]).toEqual([idOf(op), op.path.includes('{') ? 404 : 200]);
    }
  });

  it('has request examples that work as they stand: for a new user, or an admin on admin operations', async () => {
    // The register example creates the user every other example acts as (its password included).
    const register = operations.find((op) => idOf(op) === 'POST /api/v1/auth/register')!;
    const account = register.requestBody!.content['application/json'].example!;
    expect((await app.post('/auth/register', account)).status).toBe(201);
    const userToken = async () => (await app.post('/auth/login', { username: account.username, password: account.password })).body.tokens.access as string;
    const adminToken = await app.adminToken();

    const ordered = [...operations.filter((op) => !LAST.includes(idOf(op))), ...LAST.map((id) => operations.find((op) => idOf(op) === id)!)];
    const failures: string[] = [];
    for (const op of ordered) {
      if (idOf(op) === 'POST /api/v1/auth/register') continue;
      const needsId = op.path.includes('{');
      const path = op.path.replace(/\{[^}]+\}/g, randomUUID());
      const query = new URLSearchParams();
      for (const param of op.parameters ?? []) {
        const example = param.example ?? param.schema?.example;
        if (param.in === 'query' && example !== undefined) query.set(param.name, String(example));
      }
      const url = query.size ? `${path}?${query}` : path;
      // Admin operations: those under /admin/, and those elsewhere (the AI catalog's writes) whose 403 says so (@AdminOnly()).
      const adminOnly = op.path.startsWith('/api/v1/admin/') || /not an admin/.test((op.responses?.['403'] as { description?: string } | undefined)?.description ?? '');
      const token = adminOnly ? adminToken : op.security?.length ? await userToken() : undefined;
      const json = op.requestBody?.content['application/json']?.example;
      const form = op.requestBody?.content['application/x-www-form-urlencoded']?.example;
      const multipart = (op.requestBody?.content as Record<string, { schema?: { properties?: Record<string, any> } }> | undefined)?.['multipart/form-data']?.schema;
      if (op.requestBody && !json && !form && !multipart) {
        failures.push(`${idOf(op)}: no request example`);
        continue;
      }
      // A file upload: Swagger UI asks for the file; this sends a small PNG, and each text field's default.
      const response: ApiResponse = multipart
        ? await sendMultipart(`${app.url}${url}`, token, multipart)
        : await app.request(op.method, url, { token, body: json, form });
      const allowed = response.status < 400 || (needsId && response.status === 404) || NEEDS_A_REAL_VALUE[idOf(op)] === response.status;
      if (!allowed) failures.push(`${idOf(op)} ${JSON.stringify(json ?? form ?? {})}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`);
    }
    expect(failures).toEqual([]);
    // The admin's account was not touched by any of it.
    expect((await app.post('/auth/login', ADMIN)).status).toBe(200);
  }, 180_000);

  it('runs the POST /execute example and prints hello', async () => {
    const execute = operations.find((op) => idOf(op) === 'POST /api/v1/execute')!;
    const example = execute.requestBody!.content['application/json'].example;
    expect(example).toEqual({ code: "print('hello')", language: 'python' });
    const user = await app.registerUser();
    const response = await app.post('/execute', example, { token: user.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ status: 'success', stdout: 'hello\n' });
  });
});
