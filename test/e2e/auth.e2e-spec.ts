import { createHmac } from 'node:crypto';
import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * Identity: register, login (JSON and OAuth2 form), lockout, access-token
 * validation on test-token / verify / profile / users/me, expiry, disabled
 * accounts, and API keys on /users/me. Sessions, refresh, logout and
 * change-password are in auth-sessions.e2e-spec.ts.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = () => Math.random().toString(36).slice(2, 10);

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** An HS256 JWT with the given claims, signed with `secret`. */
function signJwt(claims: Record<string, unknown>, secret: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const head = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

function claimsOf(token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** No password hash (or anything bcrypt-shaped) may ever leave the API. */
function expectNoSecrets(response: ApiResponse): void {
  const text = JSON.stringify(response.body);
  expect(text).not.toContain('password_hash');
  expect(text).not.toContain('passwordHash');
  expect(text).not.toMatch(/\$2[aby]\$\d\d\$/);
}

/** Asserts the token endpoint's error body (RFC 6749 §5.2): `{error, error_description}`, no envelope. */
function expectOAuth2Error(response: ApiResponse, status: number, error: string): void {
  if (response.status !== status || response.body?.error !== error) {
    throw new Error(`expected ${status} ${error}, got ${response.status} ${JSON.stringify(response.body)}`);
  }
  expect(Object.keys(response.body).sort()).toEqual(['error', 'error_description']);
  expect(typeof response.body.error_description).toBe('string');
  expect(response.headers.get('cache-control')).toBe('no-store');
}

function expectUser(body: any, user: { id: string; username: string; email: string }): void {
  expect(body).toMatchObject({ id: user.id, username: user.username, email: user.email, role: 'user', status: 'active' });
  expect(body).not.toHaveProperty('password_hash');
  expect(body).not.toHaveProperty('password');
}

describe('Auth: register, login, tokens, API keys', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(() => app.stop());

  describe('POST /auth/register', () => {
    it('creates the user and logs in: 201 {user, tokens:{access, refresh, token_type, expires_in}}', async () => {
      const n = unique();
      const input = { username: `Ada_${n}`, email: `ada_${n}@example.test`, password: 'password-123', name: 'Ada Lovelace' };
      const response = await app.post('/auth/register', input);
      expect(response.status).toBe(201);
      expectNoSecrets(response);
      const { user, tokens } = response.body;
      expect(user).toMatchObject({ username: input.username, email: input.email, name: 'Ada Lovelace', role: 'user', level: 'free', status: 'active' });
      expect(user.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(user.created_at))).toBe(false);
      expect(user).not.toHaveProperty('password_hash');
      expect(typeof tokens.access).toBe('string');
      expect(typeof tokens.refresh).toBe('string');
      expect(tokens.token_type.toLowerCase()).toBe('bearer');
      expect(tokens.expires_in).toBe(1800);
      const claims = claimsOf(tokens.access);
      expect(claims).toMatchObject({ sub: user.id, username: input.username, email: input.email, role: 'user' });
      expect(typeof claims.sid).toBe('string');
      expect(claims.exp - claims.iat).toBe(1800);

      const me = await app.get('/users/me', { token: tokens.access });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);
    });

    it('answers 400 with field details for missing and invalid fields', async () => {
      expectValidation(await app.post('/auth/register', {}), 'username', 'email', 'password');
      expectValidation(await app.post('/auth/register', { username: `u_${unique()}`, email: 'not-an-email', password: 'password-123' }), 'email');
      expectValidation(await app.post('/auth/register', { username: 42, email: `e_${unique()}@example.test`, password: 12345678 }), 'username', 'password');
    });

    it('enforces username rules: 3-32 characters of [a-zA-Z0-9_-]', async () => {
      const n = unique();
      for (const username of ['ab', 'x'.repeat(33), 'has space', 'dot.name', 'bang!', 'ünïcode', `${n}@x`]) {
        const response = await app.post('/auth/register', { username, email: `r_${unique()}@example.test`, password: 'password-123' });
        expectValidation(response, 'username');
      }
      for (const username of [`a${n}`.slice(0, 3), `Z-${n}_`.padEnd(32, '9')]) {
        const response = await app.post('/auth/register', { username, email: `r_${unique()}@example.test`, password: 'password-123' });
        expect(response.status).toBe(201);
        expect(response.body.user.username).toBe(username);
      }
    });

    it('requires a password of at least 8 characters', async () => {
      expectValidation(await app.post('/auth/register', { username: `u_${unique()}`, email: `e_${unique()}@example.test`, password: '1234567' }), 'password');
      const ok = await app.post('/auth/register', { username: `u_${unique()}`, email: `e_${unique()}@example.test`, password: '12345678' });
      expect(ok.status).toBe(201);
    });

    it('rejects unknown body fields (no self-promotion to admin)', async () => {
      const username = `u_${unique()}`;
      const response = await app.post('/auth/register', { username, email: `${username}@example.test`, password: 'password-123', role: 'admin' });
      expectValidation(response, 'role');
      // Nothing was created: the same username registers fine afterwards, as a plain user.
      const again = await app.post('/auth/register', { username, email: `${username}@example.test`, password: 'password-123' });
      expect(again.status).toBe(201);
      expect(again.body.user.role).toBe('user');
    });

    it('answers 409 CONFLICT naming the field for a duplicate username or email in another letter case', async () => {
      const user = await app.registerUser();
      const byName = await app.post('/auth/register', { username: user.username.toUpperCase(), email: `other_${unique()}@example.test`, password: 'password-123' });
      expectError(byName, 409, 'CONFLICT');
      expect(byName.body.error.details.field).toBe('username');
      const byEmail = await app.post('/auth/register', { username: `other_${unique()}`, email: user.email.toUpperCase(), password: 'password-123' });
      expectError(byEmail, 409, 'CONFLICT');
      expect(byEmail.body.error.details.field).toBe('email');
      expectNoSecrets(byEmail);
    });

    it('lets exactly one of eight concurrent registrations with one email win; the others get 409', async () => {
      const email = `race_${unique()}@example.test`;
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) => app.post('/auth/register', { username: `race_${unique()}_${i}`, email, password: 'password-123' })),
      );
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 409, 409, 409, 409, 409, 409, 409]);
      for (const response of responses.filter((r) => r.status === 409)) {
        expectError(response, 409, 'CONFLICT');
        expect(response.body.error.details.field).toBe('email');
      }
    });
  });

  describe('POST /auth/login', () => {
    it('logs in by username (any letter case) and by email', async () => {
      const user = await app.registerUser();
      for (const body of [
        { username: user.username, password: user.password },
        { username: user.username.toUpperCase(), password: user.password },
        { username: user.email, password: user.password },
        { username: user.email.toUpperCase(), password: user.password },
        { email: user.email, password: user.password },
      ]) {
        const response = await app.post('/auth/login', body);
        expect(response.status).toBe(200);
        expectNoSecrets(response);
        expectUser(response.body.user, user);
        expect(response.body.tokens.token_type.toLowerCase()).toBe('bearer');
        expect(response.body.tokens.expires_in).toBe(1800);
        const me = await app.get('/users/me', { token: response.body.tokens.access });
        expect(me.status).toBe(200);
        expect(me.body.id).toBe(user.id);
      }
    });

    it('sets last_login_at', async () => {
      const user = await app.registerUser();
      const response = await app.post('/auth/login', { username: user.username, password: user.password });
      expect(response.status).toBe(200);
      expect(Number.isNaN(Date.parse(response.body.user.last_login_at))).toBe(false);
    });

    it('answers 401 INVALID_CREDENTIALS for a wrong password or an unknown user', async () => {
      const user = await app.registerUser();
      expectError(await app.post('/auth/login', { username: user.username, password: 'wrong-password' }), 401, 'INVALID_CREDENTIALS');
      expectError(await app.post('/auth/login', { email: user.email, password: 'wrong-password' }), 401, 'INVALID_CREDENTIALS');
      expectError(await app.post('/auth/login', { username: `nobody_${unique()}`, password: 'password-123' }), 401, 'INVALID_CREDENTIALS');
      expectError(await app.post('/auth/login', { username: `nobody_${unique()}@example.test`, password: 'password-123' }), 401, 'INVALID_CREDENTIALS');
    });

    it('answers 400 BAD_REQUEST, not 500, for a NUL character (which PostgreSQL refuses) in the username', async () => {
      expectError(await app.post('/auth/login', { username: 'nul\u0000user', password: 'password-123' }), 400, 'BAD_REQUEST');
    });

    it('answers 400 with field details for a missing identifier or password and for unknown fields', async () => {
      expectValidation(await app.post('/auth/login', {}), 'username', 'password');
      expectValidation(await app.post('/auth/login', { username: 'someone' }), 'password');
      expectValidation(await app.post('/auth/login', { password: 'password-123' }), 'username');
      expectValidation(await app.post('/auth/login', { username: 'someone', password: 'password-123', remember_me: true }), 'remember_me');
    });

    it('locks an account after 5 failures: even the right password answers 429 with Retry-After; other accounts are unaffected', async () => {
      const victim = await app.registerUser();
      const bystander = await app.registerUser();
      for (let i = 0; i < 5; i++) {
        expectError(await app.post('/auth/login', { username: victim.username, password: `wrong-${i}-password` }), 401, 'INVALID_CREDENTIALS');
      }
      for (const body of [
        { username: victim.username, password: victim.password },
        { email: victim.email, password: victim.password },
      ]) {
        const locked = await app.post('/auth/login', body);
        expectError(locked, 429, 'RATE_LIMITED');
        const retryAfter = Number(locked.headers.get('retry-after'));
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(15 * 60);
        expect(locked.body.error.details.retry_after).toBeGreaterThan(0);
        expect(locked.body.error.details.retry_after).toBeLessThanOrEqual(15 * 60);
      }
      // The OAuth2 grant is the same login and is locked too: 429 with Retry-After, in the OAuth2 shape.
      const lockedToken = await app.request('POST', '/auth/token', { form: { grant_type: 'password', username: victim.username, password: victim.password } });
      expectOAuth2Error(lockedToken, 429, 'temporarily_unavailable');
      expect(Number(lockedToken.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(lockedToken.body.error_description).toContain('locked');

      const other = await app.post('/auth/login', { username: bystander.username, password: bystander.password });
      expect(other.status).toBe(200);
      // Tokens issued before the lockout keep working: the lock is on logging in, not on sessions.
      expect((await app.get('/users/me', { token: victim.token })).status).toBe(200);
    });

    it('does not lock after 4 failures', async () => {
      const user = await app.registerUser();
      for (let i = 0; i < 4; i++) {
        expectError(await app.post('/auth/login', { username: user.username, password: 'wrong-password' }), 401, 'INVALID_CREDENTIALS');
      }
      expect((await app.post('/auth/login', { username: user.username, password: user.password })).status).toBe(200);
    });
  });

  describe('POST /auth/token (OAuth2 password grant)', () => {
    it('issues {access_token, token_type:"bearer", expires_in, refresh_token} for a form-encoded password grant', async () => {
      const user = await app.registerUser();
      for (const username of [user.username, user.email]) {
        const response = await app.request('POST', '/auth/token', { form: { grant_type: 'password', username, password: user.password } });
        expect(response.status).toBe(200);
        expectNoSecrets(response);
        expect(response.body).toEqual({
          access_token: expect.any(String),
          token_type: 'bearer',
          expires_in: 1800,
          refresh_token: expect.any(String),
        });
        const me = await app.get('/users/me', { token: response.body.access_token });
        expect(me.status).toBe(200);
        expect(me.body.id).toBe(user.id);
        const refreshed = await app.post('/auth/refresh', { refresh_token: response.body.refresh_token });
        expect(refreshed.status).toBe(200);
      }
    });

    it('accepts (and ignores) the optional OAuth2 client fields Swagger UI sends', async () => {
      const user = await app.registerUser();
      const response = await app.request('POST', '/auth/token', {
        form: { grant_type: 'password', username: user.username, password: user.password, scope: '', client_id: 'swagger', client_secret: '' },
      });
      expect(response.status).toBe(200);
      expect(response.body.token_type).toBe('bearer');
    });

    it('answers 400 unsupported_grant_type for a grant_type other than password (RFC 6749 §5.2)', async () => {
      const user = await app.registerUser();
      for (const grant_type of ['client_credentials', 'authorization_code', 'refresh_token']) {
        expectOAuth2Error(await app.request('POST', '/auth/token', { form: { grant_type, username: user.username, password: user.password } }), 400, 'unsupported_grant_type');
      }
    });

    it('answers 400 invalid_request for a missing or invalid field, naming it', async () => {
      const user = await app.registerUser();
      const noGrant = await app.request('POST', '/auth/token', { form: { username: user.username, password: user.password } });
      expectOAuth2Error(noGrant, 400, 'invalid_request');
      expect(noGrant.body.error_description).toContain('grant_type');
      const noCredentials = await app.request('POST', '/auth/token', { form: { grant_type: 'password' } });
      expectOAuth2Error(noCredentials, 400, 'invalid_request');
      expect(noCredentials.body.error_description).toContain('username');
      expect(noCredentials.body.error_description).toContain('password');
      expectOAuth2Error(await app.request('POST', '/auth/token', { form: { grant_type: 'password', username: user.username, password: user.password, remember_me: 'yes' } }), 400, 'invalid_request');
    });

    it('answers 400 invalid_grant for a bad password or an unknown user, and records the refusal in the audit log', async () => {
      const user = await app.registerUser();
      const wrong = await app.request('POST', '/auth/token', { form: { grant_type: 'password', username: user.username, password: 'wrong-password' }, headers: { 'x-request-id': `oauth-wrong-${user.id}` } });
      expectOAuth2Error(wrong, 400, 'invalid_grant');
      expectOAuth2Error(await app.request('POST', '/auth/token', { form: { grant_type: 'password', username: `nobody_${unique()}`, password: 'password-123' } }), 400, 'invalid_grant');
      // The audit entry keeps the app's own error code, as for every other route.
      let rows: any[] = [];
      for (let i = 0; i < 100 && rows.length === 0; i++) {
        ({ rows } = await app.query('SELECT status_code, metadata FROM audit_logs WHERE request_id = $1', [`oauth-wrong-${user.id}`]));
        if (rows.length === 0) await sleep(50);
      }
      expect(rows).toEqual([{ status_code: 400, metadata: expect.objectContaining({ error_code: 'INVALID_CREDENTIALS', username: user.username }) }]);
    });

    it('keeps the error envelope on every other route', async () => {
      const user = await app.registerUser();
      expectError(await app.post('/auth/login', { username: user.username, password: 'wrong-password' }), 401, 'INVALID_CREDENTIALS');
      expectValidation(await app.post('/auth/refresh', {}), 'refresh_token');
    });
  });

  describe('who am I: POST /auth/test-token, GET /auth/verify, GET /auth/profile, GET /users/me', () => {
    const endpoints: Array<[string, string]> = [
      ['POST', '/auth/test-token'],
      ['GET', '/auth/verify'],
      ['GET', '/auth/profile'],
      ['GET', '/users/me'],
    ];

    it.each(endpoints)('%s %s returns the current user for a valid access token', async (method, path) => {
      const user = await app.registerUser();
      const response = await app.request(method, path, { token: user.token });
      expect(response.status).toBe(200);
      expectNoSecrets(response);
      expectUser(response.body, user);
      expect(response.body.level).toBe('free');
    });

    it.each(endpoints)('%s %s answers 401 UNAUTHORIZED without credentials or with a non-Bearer scheme', async (method, path) => {
      expectError(await app.request(method, path), 401, 'UNAUTHORIZED');
      expectError(await app.request(method, path, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'UNAUTHORIZED');
      expectError(await app.request(method, path, { headers: { authorization: 'Bearer' } }), 401, 'UNAUTHORIZED');
    });

    it.each(endpoints)('%s %s answers 401 UNAUTHORIZED for garbage, a token signed with another secret, or alg none', async (method, path) => {
      const user = await app.registerUser();
      const claims = claimsOf(user.token);
      const forged = signJwt(claims, 'some-other-secret-some-other-secret-0123');
      const escalated = signJwt({ ...claims, role: 'admin' }, 'some-other-secret-some-other-secret-0123');
      const [head, payload] = user.token.split('.');
      const tampered = `${head}.${base64url(JSON.stringify({ ...claims, role: 'admin' }))}.${user.token.split('.')[2]}`;
      const none = `${base64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${payload}.`;
      for (const token of ['garbage', 'a.b.c', forged, escalated, tampered, none, `${user.token}x`]) {
        expectError(await app.request(method, path, { token }), 401, 'UNAUTHORIZED');
      }
    });

    it('does not accept a refresh token as an access token', async () => {
      const user = await app.registerUser();
      expectError(await app.get('/users/me', { token: user.refresh }), 401, 'UNAUTHORIZED');
    });

    it('answers 401 TOKEN_EXPIRED for an expired access token (ACCESS_TOKEN_TTL_SECONDS=1)', async () => {
      const shortLived = await TestApp.start({ ACCESS_TOKEN_TTL_SECONDS: '1' });
      try {
        const register = await shortLived.post('/auth/register', { username: `exp_${unique()}`, email: `exp_${unique()}@example.test`, password: 'password-123' });
        expect(register.status).toBe(201);
        expect(register.body.tokens.expires_in).toBe(1);
        const usedEarly = await shortLived.registerUser();
        // Used while (probably) still valid, so the app may have it in a verified-token cache; not asserted.
        await shortLived.get('/users/me', { token: usedEarly.token });
        await sleep(2_100);
        for (const token of [register.body.tokens.access, usedEarly.token]) {
          for (const [method, path] of endpoints) {
            expectError(await shortLived.request(method, path, { token }), 401, 'TOKEN_EXPIRED');
          }
        }
        // The refresh token outlives the access token.
        const refreshed = await shortLived.post('/auth/refresh', { refresh_token: register.body.tokens.refresh });
        expect(refreshed.status).toBe(200);
        expect(typeof refreshed.body.tokens.access).toBe('string');
      } finally {
        await shortLived.stop();
      }
    });
  });

  describe('disabled accounts', () => {
    it('answers 403 ACCOUNT_DISABLED to the existing token, to login and to refresh', async () => {
      const admin = await app.adminToken();
      const user = await app.registerUser();
      expect((await app.get('/users/me', { token: user.token })).status).toBe(200);

      const disable = await app.put(`/api/v1/admin/users/${user.id}`, { status: 'disabled' }, { token: admin });
      expect(disable.status).toBe(200);
      expect(disable.body.status).toBe('disabled');

      for (const path of ['/users/me', '/auth/verify', '/auth/profile']) {
        expectError(await app.get(path, { token: user.token }), 403, 'ACCOUNT_DISABLED');
      }
      expectError(await app.post('/auth/login', { username: user.username, password: user.password }), 403, 'ACCOUNT_DISABLED');
      expectError(await app.post('/auth/login', { email: user.email, password: user.password }), 403, 'ACCOUNT_DISABLED');
      expectOAuth2Error(await app.request('POST', '/auth/token', { form: { grant_type: 'password', username: user.username, password: user.password } }), 400, 'invalid_grant');
      expectError(await app.post('/auth/refresh', { refresh_token: user.refresh }), 403, 'ACCOUNT_DISABLED');
      // A wrong password on a disabled account reveals nothing more than on an active one.
      expectError(await app.post('/auth/login', { username: user.username, password: 'wrong-password' }), 401, 'INVALID_CREDENTIALS');

      const enable = await app.put(`/api/v1/admin/users/${user.id}`, { status: 'active' }, { token: admin });
      expect(enable.status).toBe(200);
      expect((await app.get('/users/me', { token: user.token })).status).toBe(200);
      expect((await app.post('/auth/login', { username: user.username, password: user.password })).status).toBe(200);
    });

    it('answers 403 ACCOUNT_DISABLED to an API key of a disabled user', async () => {
      const admin = await app.adminToken();
      const user = await app.registerUser();
      const key = await app.post('/api/v1/api-keys', { name: 'profile', scopes: ['profile:read'] }, { token: user.token });
      expect(key.status).toBe(201);
      expect((await app.put(`/api/v1/admin/users/${user.id}`, { status: 'disabled' }, { token: admin })).status).toBe(200);
      expectError(await app.get('/users/me', { apiKey: key.body.key }), 403, 'ACCOUNT_DISABLED');
    });
  });

  describe('API keys on /users/me', () => {
    it('accepts a key with profile:read in X-API-Key and in Authorization: Bearer', async () => {
      const user = await app.registerUser();
      const created = await app.post('/api/v1/api-keys', { name: 'profile reader', scopes: ['profile:read'] }, { token: user.token });
      expect(created.status).toBe(201);
      expect(created.body.key).toMatch(/^sk-[A-Za-z0-9]{48}$/);
      expect(created.body.scopes).toEqual(['profile:read']);

      const viaHeader = await app.get('/users/me', { apiKey: created.body.key });
      expect(viaHeader.status).toBe(200);
      expectNoSecrets(viaHeader);
      expectUser(viaHeader.body, user);

      const viaBearer = await app.get('/users/me', { token: created.body.key });
      expect(viaBearer.status).toBe(200);
      expectUser(viaBearer.body, user);
    });

    it('accepts a key with the * scope', async () => {
      const user = await app.registerUser();
      const created = await app.post('/api/v1/api-keys', { name: 'all', scopes: ['*'] }, { token: user.token });
      expect(created.status).toBe(201);
      const response = await app.get('/users/me', { apiKey: created.body.key });
      expect(response.status).toBe(200);
      expect(response.body.id).toBe(user.id);
    });

    it('answers 403 FORBIDDEN to a key without profile:read', async () => {
      const user = await app.registerUser();
      const created = await app.post('/api/v1/api-keys', { name: 'runner', scopes: ['execute', 'code:read'] }, { token: user.token });
      expect(created.status).toBe(201);
      expectError(await app.get('/users/me', { apiKey: created.body.key }), 403, 'FORBIDDEN');
      expectError(await app.get('/users/me', { token: created.body.key }), 403, 'FORBIDDEN');
    });

    it('answers 401 UNAUTHORIZED to an unknown or malformed key', async () => {
      expectError(await app.get('/users/me', { apiKey: `sk-${'A'.repeat(48)}` }), 401, 'UNAUTHORIZED');
      expectError(await app.get('/users/me', { apiKey: 'sk-short' }), 401, 'UNAUTHORIZED');
      expectError(await app.get('/users/me', { token: `sk-${'b'.repeat(48)}` }), 401, 'UNAUTHORIZED');
    });

    it('answers 403 to an API key on JWT-only endpoints such as /auth/verify', async () => {
      const user = await app.registerUser();
      const created = await app.post('/api/v1/api-keys', { name: 'all', scopes: ['*'] }, { token: user.token });
      expect(created.status).toBe(201);
      for (const [method, path] of [['GET', '/auth/verify'], ['GET', '/auth/profile'], ['POST', '/auth/test-token'], ['GET', '/auth/sessions']]) {
        expectError(await app.request(method, path, { apiKey: created.body.key }), 403, 'FORBIDDEN');
        expectError(await app.request(method, path, { token: created.body.key }), 403, 'FORBIDDEN');
      }
    });
  });
});
