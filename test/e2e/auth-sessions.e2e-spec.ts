import { randomUUID } from 'node:crypto';
import { expectError, expectValidation } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Sessions: refresh rotation with reuse detection, logout (the access
 * token stops at once), logout-all, listing and revoking sessions, and
 * change-password revoking the other sessions.
 */

describe('Auth sessions: refresh, logout, sessions, change-password', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await TestApp.start();
  });
  afterAll(() => app.stop());

  async function login(user: { username: string; password: string }, userAgent?: string) {
    const response = await app.post('/auth/login', { username: user.username, password: user.password }, userAgent ? { headers: { 'user-agent': userAgent } } : {});
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { token: response.body.tokens.access as string, refresh: response.body.tokens.refresh as string };
  }

  const sidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sid;

  describe('POST /auth/refresh', () => {
    it('rotates: returns a new working pair', async () => {
      const user = await app.registerUser();
      const response = await app.post('/auth/refresh', { refresh_token: user.refresh });
      expect(response.status).toBe(200);
      const { tokens } = response.body;
      expect(tokens).toEqual({ access: expect.any(String), refresh: expect.any(String), token_type: expect.stringMatching(/^bearer$/i), expires_in: 1800 });
      expect(tokens.refresh).not.toBe(user.refresh);
      expect(sidOf(tokens.access)).toBe(sidOf(user.token));

      const me = await app.get('/users/me', { token: tokens.access });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);

      const again = await app.post('/auth/refresh', { refresh_token: tokens.refresh });
      expect(again.status).toBe(200);
      expect(again.body.tokens.refresh).not.toBe(tokens.refresh);
    });

    it('detects reuse of a rotated refresh token and revokes the whole session', async () => {
      const user = await app.registerUser();
      const other = await login(user);
      const first = await app.post('/auth/refresh', { refresh_token: user.refresh });
      expect(first.status).toBe(200);
      const second = await app.post('/auth/refresh', { refresh_token: first.body.tokens.refresh });
      expect(second.status).toBe(200);
      const newest = second.body.tokens;
      expect((await app.get('/users/me', { token: newest.access })).status).toBe(200);

      // The first, already rotated token comes back: reuse.
      expectError(await app.post('/auth/refresh', { refresh_token: user.refresh }), 401, 'TOKEN_REVOKED');

      // The whole session is gone: the newest refresh token and every access token of it.
      expectError(await app.post('/auth/refresh', { refresh_token: newest.refresh }), 401, 'TOKEN_REVOKED');
      expectError(await app.get('/users/me', { token: newest.access }), 401, 'TOKEN_REVOKED');
      expectError(await app.get('/users/me', { token: first.body.tokens.access }), 401, 'TOKEN_REVOKED');
      expectError(await app.get('/auth/verify', { token: user.token }), 401, 'TOKEN_REVOKED');

      // Another session of the same user is not affected.
      expect((await app.get('/users/me', { token: other.token })).status).toBe(200);
      expect((await app.post('/auth/refresh', { refresh_token: other.refresh })).status).toBe(200);
    });

    it('answers 401 UNAUTHORIZED to garbage or an unknown refresh token', async () => {
      const user = await app.registerUser();
      expectError(await app.post('/auth/refresh', { refresh_token: 'garbage' }), 401, 'UNAUTHORIZED');
      const [sessionId, secret] = user.refresh.split('.');
      expectError(await app.post('/auth/refresh', { refresh_token: `${sessionId}.not-a-secret` }), 401, 'UNAUTHORIZED');
      expectError(await app.post('/auth/refresh', { refresh_token: secret }), 401, 'UNAUTHORIZED');
      expectError(await app.post('/auth/refresh', { refresh_token: `${randomUUID()}.${secret}` }), 401, 'UNAUTHORIZED');
      // None of that harmed the real session.
      expect((await app.post('/auth/refresh', { refresh_token: user.refresh })).status).toBe(200);
    });

    it('answers 400 with field details for a missing refresh_token or unknown fields', async () => {
      expectValidation(await app.post('/auth/refresh', {}), 'refresh_token');
      expectValidation(await app.post('/auth/refresh', { refresh_token: 123 }), 'refresh_token');
      const user = await app.registerUser();
      expectValidation(await app.post('/auth/refresh', { refresh_token: user.refresh, grant_type: 'refresh_token' }), 'grant_type');
    });
  });

  describe('POST /auth/logout', () => {
    it('revokes the current session: the access token answers 401 TOKEN_REVOKED on the very next request, its refresh token too', async () => {
      const user = await app.registerUser();
      const other = await login(user);
      // Warm up any per-token caches first.
      expect((await app.get('/users/me', { token: user.token })).status).toBe(200);

      const response = await app.post('/auth/logout', undefined, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });

      expectError(await app.get('/users/me', { token: user.token }), 401, 'TOKEN_REVOKED');
      expectError(await app.post('/auth/logout', undefined, { token: user.token }), 401, 'TOKEN_REVOKED');
      expectError(await app.post('/auth/refresh', { refresh_token: user.refresh }), 401, 'TOKEN_REVOKED');

      // Only that session: the other one keeps working.
      expect((await app.get('/users/me', { token: other.token })).status).toBe(200);
    });

    it('answers 401 UNAUTHORIZED without credentials', async () => {
      expectError(await app.post('/auth/logout'), 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /auth/logout-all', () => {
    it('revokes every session of the user and no one else\'s', async () => {
      const user = await app.registerUser();
      const second = await login(user);
      const third = await login(user);
      const stranger = await app.registerUser();

      const response = await app.post('/auth/logout-all', undefined, { token: second.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true, revoked: 3 });

      for (const token of [user.token, second.token, third.token]) {
        expectError(await app.get('/users/me', { token }), 401, 'TOKEN_REVOKED');
      }
      for (const refresh of [user.refresh, second.refresh, third.refresh]) {
        expectError(await app.post('/auth/refresh', { refresh_token: refresh }), 401, 'TOKEN_REVOKED');
      }
      expect((await app.get('/users/me', { token: stranger.token })).status).toBe(200);

      // Logging in again works.
      const fresh = await login(user);
      expect((await app.get('/users/me', { token: fresh.token })).status).toBe(200);
    });

    it('answers 401 UNAUTHORIZED without credentials', async () => {
      expectError(await app.post('/auth/logout-all'), 401, 'UNAUTHORIZED');
    });
  });

  describe('GET /auth/sessions and DELETE /auth/sessions/:id', () => {
    it('lists the user\'s live sessions with ip, user agent, timestamps and the current flag', async () => {
      const user = await app.registerUser();
      const phone = await login(user, 'PhoneApp/2.0');
      const laptop = await login(user, 'LaptopBrowser/1.0');
      const stranger = await app.registerUser();

      const response = await app.get('/auth/sessions', { token: laptop.token });
      expect(response.status).toBe(200);
      const sessions: any[] = response.body.sessions;
      expect(sessions).toHaveLength(3);
      expect(sessions.map((s) => s.id).sort()).toEqual([sidOf(user.token), sidOf(phone.token), sidOf(laptop.token)].sort());
      expect(sessions.map((s) => s.id)).not.toContain(sidOf(stranger.token));

      const current = sessions.filter((s) => s.current);
      expect(current).toHaveLength(1);
      expect(current[0].id).toBe(sidOf(laptop.token));
      expect(current[0].user_agent).toBe('LaptopBrowser/1.0');
      expect(sessions.find((s) => s.id === sidOf(phone.token)).user_agent).toBe('PhoneApp/2.0');
      for (const session of sessions) {
        expect(session.ip).toMatch(/127\.0\.0\.1|::1/);
        expect(Number.isNaN(Date.parse(session.created_at))).toBe(false);
        expect(Number.isNaN(Date.parse(session.last_used_at))).toBe(false);
        expect(Date.parse(session.expires_at)).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
        expect(session).not.toHaveProperty('refresh_token_hash');
        expect(JSON.stringify(session)).not.toContain(user.refresh.split('.')[1]);
      }

      // A session that logged out is no longer listed.
      expect((await app.post('/auth/logout', undefined, { token: phone.token })).status).toBe(200);
      const after = await app.get('/auth/sessions', { token: laptop.token });
      expect(after.body.sessions.map((s: any) => s.id).sort()).toEqual([sidOf(user.token), sidOf(laptop.token)].sort());
    });

    it('revokes one session: its token answers 401 TOKEN_REVOKED, the others keep working', async () => {
      const user = await app.registerUser();
      const other = await login(user);
      expect((await app.get('/users/me', { token: other.token })).status).toBe(200);

      const response = await app.delete(`/auth/sessions/${sidOf(other.token)}`, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });

      expectError(await app.get('/users/me', { token: other.token }), 401, 'TOKEN_REVOKED');
      expectError(await app.post('/auth/refresh', { refresh_token: other.refresh }), 401, 'TOKEN_REVOKED');
      expect((await app.get('/users/me', { token: user.token })).status).toBe(200);
      const listed = await app.get('/auth/sessions', { token: user.token });
      expect(listed.body.sessions.map((s: any) => s.id)).toEqual([sidOf(user.token)]);

      // Already revoked: nothing left to revoke.
      expectError(await app.delete(`/auth/sessions/${sidOf(other.token)}`, { token: user.token }), 404, 'NOT_FOUND');
    });

    it('can revoke the current session too', async () => {
      const user = await app.registerUser();
      const response = await app.delete(`/auth/sessions/${sidOf(user.token)}`, { token: user.token });
      expect(response.status).toBe(200);
      expectError(await app.get('/users/me', { token: user.token }), 401, 'TOKEN_REVOKED');
    });

    it('answers 404 for another user\'s session (which keeps working) or an unknown id', async () => {
      const user = await app.registerUser();
      const victim = await app.registerUser();
      expectError(await app.delete(`/auth/sessions/${sidOf(victim.token)}`, { token: user.token }), 404, 'NOT_FOUND');
      expect((await app.get('/users/me', { token: victim.token })).status).toBe(200);
      expectError(await app.delete(`/auth/sessions/${randomUUID()}`, { token: user.token }), 404, 'NOT_FOUND');
    });

    it('answers 400 for a non-UUID id', async () => {
      const user = await app.registerUser();
      expectValidation(await app.delete('/auth/sessions/not-a-uuid', { token: user.token }), 'id');
      expectValidation(await app.delete('/auth/sessions/123', { token: user.token }), 'id');
    });

    it('answers 401 UNAUTHORIZED without credentials', async () => {
      expectError(await app.get('/auth/sessions'), 401, 'UNAUTHORIZED');
      expectError(await app.delete(`/auth/sessions/${randomUUID()}`), 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /auth/change-password', () => {
    it('changes the password, revokes the other sessions and keeps the current one', async () => {
      const user = await app.registerUser();
      const other = await login(user);
      const third = await login(user);
      const newPassword = 'brand-new-password-456';

      const response = await app.post('/auth/change-password', { current_password: user.password, new_password: newPassword }, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ success: true });

      // The current session keeps working, its refresh token too.
      expect((await app.get('/users/me', { token: user.token })).status).toBe(200);
      const refreshed = await app.post('/auth/refresh', { refresh_token: user.refresh });
      expect(refreshed.status).toBe(200);
      expect((await app.get('/users/me', { token: refreshed.body.tokens.access })).status).toBe(200);

      // The others are revoked.
      for (const session of [other, third]) {
        expectError(await app.get('/users/me', { token: session.token }), 401, 'TOKEN_REVOKED');
        expectError(await app.post('/auth/refresh', { refresh_token: session.refresh }), 401, 'TOKEN_REVOKED');
      }

      // The old password no longer logs in; the new one does.
      expectError(await app.post('/auth/login', { username: user.username, password: user.password }), 401, 'INVALID_CREDENTIALS');
      const fresh = await app.post('/auth/login', { username: user.username, password: newPassword });
      expect(fresh.status).toBe(200);
      expect(fresh.body.user.id).toBe(user.id);
    });

    it('answers 401 INVALID_CREDENTIALS for a wrong current password and changes nothing', async () => {
      const user = await app.registerUser();
      const other = await login(user);
      const response = await app.post('/auth/change-password', { current_password: 'not-my-password', new_password: 'brand-new-password-456' }, { token: user.token });
      expectError(response, 401, 'INVALID_CREDENTIALS');
      // The caller stays logged in, the other session too, and the old password still works.
      expect((await app.get('/users/me', { token: user.token })).status).toBe(200);
      expect((await app.get('/users/me', { token: other.token })).status).toBe(200);
      expect((await app.post('/auth/login', { username: user.username, password: user.password })).status).toBe(200);
      expectError(await app.post('/auth/login', { username: user.username, password: 'brand-new-password-456' }), 401, 'INVALID_CREDENTIALS');
    });

    it('answers 400 with field details for missing fields, a short new password or unknown fields', async () => {
      const user = await app.registerUser();
      expectValidation(await app.post('/auth/change-password', {}, { token: user.token }), 'current_password', 'new_password');
      expectValidation(await app.post('/auth/change-password', { current_password: user.password, new_password: '1234567' }, { token: user.token }), 'new_password');
      expectValidation(
        await app.post('/auth/change-password', { current_password: user.password, new_password: 'brand-new-password-456', confirm: 'x' }, { token: user.token }),
        'confirm',
      );
      // Nothing changed.
      expect((await app.post('/auth/login', { username: user.username, password: user.password })).status).toBe(200);
    });

    it('answers 401 UNAUTHORIZED without credentials', async () => {
      expectError(await app.post('/auth/change-password', { current_password: 'password-123', new_password: 'brand-new-password-456' }), 401, 'UNAUTHORIZED');
    });
  });
});
