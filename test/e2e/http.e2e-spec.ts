import { expectError } from '../support/expectations';
import { TestApp } from '../support/test-app';

describe('HTTP conventions', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(() => app.stop());

  it('serves health at / and /api/v1/health with the database checked', async () => {
    for (const path of ['/', '/api/v1/health']) {
      const response = await app.get(path);
      expect(response.status).toBe(200);
      expect(response.body.info.database.status).toBe('up');
    }
  });

  it('echoes a sane X-Request-Id and always sends X-API-Version', async () => {
    const echoed = await app.get('/api/v1/health', { headers: { 'x-request-id': 'trace-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-123');
    expect(echoed.headers.get('x-api-version')).toBe('v1');
    const generated = await app.get('/api/v1/health', { headers: { 'x-request-id': 'bad id with spaces' } });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers unknown routes with the envelope', async () => {
    const response = await app.get('/api/v1/does-not-exist', { headers: { 'x-request-id': 'nf-1' } });
    expectError(response, 404, 'NOT_FOUND');
    expect(response.body.error.request_id).toBe('nf-1');
  });

  it('answers a malformed URL (bad percent-encoding) with the envelope, not Fastify\'s own body', async () => {
    const response = await app.get('/api/v1/admin/plans/%FF', { headers: { 'x-request-id': 'bad-url-1' } });
    expectError(response, 400, 'BAD_REQUEST');
    expect(response.body.error.request_id).toBe('bad-url-1');
  });

  it('answers a path parameter over 100 characters with 400 in the envelope (Fastify says 414)', async () => {
    const response = await app.delete(`/api/v1/api-keys/${'p'.repeat(101)}`, { headers: { 'x-request-id': 'long-param-1' } });
    expectError(response, 400, 'BAD_REQUEST');
    expect(response.body.error.request_id).toBe('long-param-1');
  });

  it('rejects malformed JSON, wrong content types and oversize bodies', async () => {
    expectError(await app.post('/auth/register', '{bad json'), 400, 'BAD_REQUEST');
    expectError(await app.post('/auth/register', '<a/>', { headers: { 'content-type': 'text/xml' } }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const huge = JSON.stringify({ username: 'x'.repeat(2 * 1024 * 1024) });
    expectError(await app.post('/auth/register', huge), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('sends security headers: a strict set on JSON, helmet\'s full set with a Swagger-friendly CSP on /docs', async () => {
    const api = await app.get('/api/v1/health');
    expect(api.headers.get('x-content-type-options')).toBe('nosniff');
    expect(api.headers.get('x-frame-options')).toBe('DENY');
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    const docs = await app.get('/docs');
    expect(docs.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(docs.headers.get('x-dns-prefetch-control')).toBe('off');
    expect(docs.headers.get('x-api-version')).toBe('v1');
  });

  it('serves Swagger UI and the OpenAPI document with three ways to authorize', async () => {
    const ui = await app.get('/docs');
    expect(ui.status).toBe(200);
    const doc = await app.get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.components.securitySchemes).sort()).toEqual(['api_key', 'jwt', 'oauth2']);
    expect(doc.body.components.securitySchemes.oauth2.flows.password.tokenUrl).toBe('/api/v1/auth/token');
  });
});
