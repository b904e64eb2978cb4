import { setTimeout as sleep } from 'node:timers/promises';
import { expectError } from '../support/expectations';
import { ApiResponse, TestApp } from '../support/test-app';

/**
 * The owner rule across contexts (common/auth/ownership.ts): a user
 * reads and changes only their own resources, someone else's private one
 * answers 404; an admin reads and changes anyone's, and every change or run an
 * admin makes to someone else's resource is audited with the admin as the
 * entry's user and the owner in metadata.owner_id. Alice owns the resources,
 * Bob is another user, the admin reaches into Alice's.
 */

type User = Awaited<ReturnType<TestApp['registerUser']>>;

const sidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sid;

describe('Admins act on other users\' resources (one owner rule, audited)', () => {
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

  /** The audit entry of this response's request; entries are written in batches, so it is polled for (up to 3 s). */
  async function auditEntryOf(response: ApiResponse): Promise<any> {
    const requestId = response.headers.get('x-request-id');
    const deadline = Date.now() + 3000;
    for (;;) {
      const { rows } = await app.query('SELECT user_id, action, resource_id, status_code, metadata FROM audit_logs WHERE request_id = $1', [requestId]);
      if (rows.length > 0) return rows[0];
      if (Date.now() > deadline) throw new Error(`no audit entry for request ${requestId}`);
      await sleep(25);
    }
  }

  /** The response succeeded and its entry names the admin as the one who acted and Alice as the owner. */
  async function expectAuditedReach(response: ApiResponse, action: string, status = 200): Promise<void> {
    expect(response.status).toBe(status);
    const entry = await auditEntryOf(response);
    expect(entry).toMatchObject({ user_id: adminId, action, status_code: status });
    expect(entry.metadata.owner_id).toBe(alice.id);
  }

  describe('API keys', () => {
    it('an admin toggles (PUT and POST) and deletes another user\'s key; the key follows at once; others get 404', async () => {
      const created = await app.post('/api-keys', { name: 'alice', scopes: ['profile:read'] }, { token: alice.token });
      expect(created.status).toBe(201);
      const { id, key } = created.body;
      expect((await app.get('/users/me', { apiKey: key })).status).toBe(200);

      expectError(await app.put(`/api-keys/${id}/toggle`, { enabled: false }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/api-keys/${id}/toggle`, undefined, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/api-keys/${id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expect((await app.get('/users/me', { apiKey: key })).status).toBe(200);

      const disabled = await app.put(`/api-keys/${id}/toggle`, { enabled: false }, { token: admin });
      await expectAuditedReach(disabled, 'api_key.toggle');
      expect(disabled.body).toMatchObject({ id, enabled: false });
      // The owner's cached key state was dropped, not the admin's.
      expectError(await app.get('/users/me', { apiKey: key }), 401, 'UNAUTHORIZED');

      const enabled = await app.post(`/api-keys/${id}/toggle`, undefined, { token: admin });
      await expectAuditedReach(enabled, 'api_key.toggle');
      expect(enabled.body).toMatchObject({ id, enabled: true });
      expect((await app.get('/users/me', { apiKey: key })).status).toBe(200);

      const deleted = await app.delete(`/api-keys/${id}`, { token: admin });
      await expectAuditedReach(deleted, 'api_key.delete');
      expect(deleted.body).toEqual({ success: true });
      expectError(await app.get('/users/me', { apiKey: key }), 401, 'UNAUTHORIZED');
      expect((await app.get('/api-keys', { token: alice.token })).body.api_keys).toEqual([]);
      expectError(await app.delete(`/api-keys/${id}`, { token: admin }), 404, 'NOT_FOUND');
    });

    it('an admin acting on their own key is no reach: no owner_id', async () => {
      const created = await app.post('/api-keys', { name: 'own', scopes: ['profile:read'] }, { token: admin });
      const toggled = await app.put(`/api-keys/${created.body.id}/toggle`, { enabled: false }, { token: admin });
      expect(toggled.status).toBe(200);
      const entry = await auditEntryOf(toggled);
      expect(entry.user_id).toBe(adminId);
      expect(entry.metadata).not.toHaveProperty('owner_id');
    });
  });

  describe('sessions', () => {
    it('an admin revokes another user\'s session by id; others get 404', async () => {
      const login = await app.post('/auth/login', { username: alice.username, password: alice.password });
      const laptop = login.body.tokens.access as string;

      expectError(await app.delete(`/auth/sessions/${sidOf(laptop)}`, { token: bob.token }), 404, 'NOT_FOUND');
      expect((await app.get('/auth/verify', { token: laptop })).status).toBe(200);

      await expectAuditedReach(await app.delete(`/auth/sessions/${sidOf(laptop)}`, { token: admin }), 'session.revoke');
      expectError(await app.get('/auth/verify', { token: laptop }), 401, 'TOKEN_REVOKED');
      // Only that session: Alice's other one still works.
      expect((await app.get('/auth/verify', { token: alice.token })).status).toBe(200);
      expectError(await app.delete(`/auth/sessions/${sidOf(laptop)}`, { token: admin }), 404, 'NOT_FOUND');
    });
  });

  describe('snippets', () => {
    it('an admin reads, runs, copies, updates and deletes another user\'s private snippet; others get 404', async () => {
      const created = await app.post('/code-library', { title: 'Private', code: 'print("from alice")' }, { token: alice.token });
      expect(created.status).toBe(201);
      const { id } = created.body;

      expectError(await app.get(`/code-library/${id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/code-library/${id}/run`, {}, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.post('/code-library/save', { code_id: id }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.put(`/code-library/${id}`, { title: 'Bob was here' }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/code-library/${id}`, { token: bob.token }), 404, 'NOT_FOUND');

      expect((await app.get(`/code-library/${id}`, { token: admin })).body).toEqual(created.body);

      const run = await app.post(`/code-library/${id}/run`, {}, { token: admin });
      await expectAuditedReach(run, 'code.run');
      expect(run.body).toMatchObject({ status: 'success', stdout: 'from alice\n' });

      const saved = await app.post('/code-library/save', { code_id: id }, { token: admin });
      await expectAuditedReach(saved, 'code.save', 201);
      expect((await app.get(`/code-library/${saved.body.id}`, { token: admin })).body).toMatchObject({ user_id: adminId, saved_from_id: id });

      const updated = await app.put(`/code-library/${id}`, { title: 'Edited by an admin' }, { token: admin });
      await expectAuditedReach(updated, 'code.update');
      expect(updated.body).toMatchObject({ id, user_id: alice.id, title: 'Edited by an admin' });

      await expectAuditedReach(await app.delete(`/code-library/${id}`, { token: admin }), 'code.delete');
      expectError(await app.get(`/code-library/${id}`, { token: alice.token }), 404, 'NOT_FOUND');
    });
  });

  describe('executions', () => {
    it('an admin reads and cancels another user\'s run; others get 404', async () => {
      // A long run; the free plan's wall-time limit would end it after a few seconds.
      expect((await app.put(`/admin/users/${alice.id}`, { level: 'premium' }, { token: admin })).status).toBe(200);
      const started = await app.post('/execute?wait=false', { code: 'import time\ntime.sleep(30)' }, { token: alice.token });
      expect(started.status).toBe(202);
      const { id } = started.body;

      expectError(await app.get(`/executions/${id}`, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/executions/${id}/cancel`, undefined, { token: bob.token }), 404, 'NOT_FOUND');

      const read = await app.get(`/executions/${id}`, { token: admin });
      expect(read.status).toBe(200);
      expect(read.body.id).toBe(id);
      const cancelled = await app.post(`/executions/${id}/cancel`, undefined, { token: admin });
      await expectAuditedReach(cancelled, 'code.cancel');
      expect(cancelled.body).toMatchObject({ id, status: 'killed' });
      expect((await app.get(`/executions/${id}`, { token: alice.token })).body.status).toBe('killed');
    });
  });

  describe('environments', () => {
    it('an admin changes, runs with and deletes another user\'s private environment; others get 404', async () => {
      const created = await app.post('/user-environments', { name: 'reach' }, { token: alice.token });
      expect(created.status).toBe(201);
      const { id } = created.body;

      expectError(await app.put(`/user-environments/${id}`, { description: 'mine now' }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.post('/execute', { code: 'print(1)', environment_id: id }, { token: bob.token }), 404, 'NOT_FOUND');
      expectError(await app.delete(`/user-environments/${id}`, { token: bob.token }), 404, 'NOT_FOUND');

      const updated = await app.put(`/user-environments/${id}`, { description: 'Checked by an admin' }, { token: admin });
      await expectAuditedReach(updated, 'environment.update');
      expect(updated.body).toMatchObject({ id, user_id: alice.id, description: 'Checked by an admin' });

      const run = await app.post('/execute', { code: 'print("in reach")', environment_id: id }, { token: admin });
      await expectAuditedReach(run, 'code.execute');
      expect(run.body).toMatchObject({ status: 'success', stdout: 'in reach\n', environment: 'reach' });

      await expectAuditedReach(await app.delete(`/user-environments/${id}`, { token: admin }), 'environment.delete');
      expectError(await app.get(`/user-environments/${id}`, { token: alice.token }), 404, 'NOT_FOUND');
    });
  });
});
