import fc from 'fast-check';
import { AuditEntry } from '../../src/modules/audit/audit-entry';
import { AuditWriter } from '../../src/modules/audit/audit-writer';
import { TestApp } from '../support/test-app';

/**
 * No request can stop the audit trail. Each request below once made PostgreSQL
 * refuse its audit batch (or the metadata's JSON.stringify overflow), and the
 * batch was retried forever: from then on no entry was written for anyone.
 * After each of them, an ordinary request's entry must still be written, and
 * the poisoned request's own entry too. Then a property test: random strings
 * and objects, through the real writer into the real table, are all written.
 * The app runs with the default AUDIT_DURABILITY=sync, so an entry is committed
 * when its response arrives: these tests read the table at once, without polling.
 */

const RUN = Math.random().toString(36).slice(2, 10);
let sequence = 0;

describe('Audit trail: poisoned requests', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await TestApp.start({ AUDIT_FLUSH_INTERVAL_MS: '1000' });
    admin = await app.adminToken();
  });
  afterAll(async () => {
    await app?.stop();
  });

  const requestId = (tag: string) => `poison-${RUN}-${tag}-${++sequence}`;

  async function rowFor(id: string): Promise<Record<string, any> | undefined> {
    const { rows } = await app.query('SELECT * FROM audit_logs WHERE request_id = $1', [id]);
    return rows[0];
  }

  /** Sends a raw body; returns the status and the request id it was sent with. */
  async function send(method: string, path: string, body: string, options: { token?: string } = {}): Promise<{ status: number; id: string }> {
    const id = requestId(path.split('/')[1]);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': id };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const response = await fetch(`${app.url}/api/v1${path}`, { method, headers, body });
    await response.arrayBuffer();
    return { status: response.status, id };
  }

  /** The poisoned request's entry is there, and so is the entry of an ordinary request sent after it. */
  async function expectTrailWorks(poisoned: { id: string; status: number }): Promise<Record<string, any>> {
    const row = await rowFor(poisoned.id);
    expect(row).toBeDefined();
    expect(row!.status_code).toBe(poisoned.status);
    const after = await send('POST', '/auth/login', JSON.stringify({ username: 'nobody', password: 'whatever-1' }));
    expect(after.status).toBe(401);
    expect(await rowFor(after.id)).toBeDefined();
    return row!;
  }

  it('a lone surrogate in an anonymous login (JSON escapes \\ud800, \\udfff)', async () => {
    const poisoned = await send('POST', '/auth/login', '{"username":"x\\ud800y","password":"whatever-1","email":"\\udfff"}');
    expect(poisoned.status).toBeGreaterThanOrEqual(400);
    expect(poisoned.status).toBeLessThan(500);
    const row = await expectTrailWorks(poisoned);
    expect(JSON.stringify(row.metadata).isWellFormed()).toBe(true);
  });

  it('a login body nested 10 000 levels deep', async () => {
    const deep = `${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
    const poisoned = await send('POST', '/auth/login', `{"username":${deep},"password":"whatever-1"}`);
    expect(poisoned.status).toBe(400);
    await expectTrailWorks(poisoned);
  });

  it('an API key and a plan named with a lone surrogate', async () => {
    const user = await app.registerUser();
    const key = await send('POST', '/api-keys', '{"name":"key \\ud800"}', { token: user.token });
    expect(key.status).toBeLessThan(500);
    await expectTrailWorks(key);
    const plan = await send('PUT', '/admin/plans/free', '{"name":"Free \\udc00"}', { token: admin });
    expect(plan.status).toBeLessThan(500);
    await expectTrailWorks(plan);
  });

  it('an anonymous request with a 1 MB field stores a small entry, not the body', async () => {
    const huge = 'x'.repeat(1_000_000);
    const poisoned = await send('POST', '/code-library/save', JSON.stringify({ code_id: huge }));
    expect(poisoned.status).toBeGreaterThanOrEqual(400);
    const row = await expectTrailWorks(poisoned);
    const { rows } = await app.query('SELECT pg_column_size(a.*) AS bytes FROM audit_logs a WHERE request_id = $1', [poisoned.id]);
    expect(rows[0].bytes).toBeLessThan(2_000);
    expect(row.metadata).toEqual({ error_code: 'UNAUTHORIZED' });
  });

  it('a successful write records only its named fields, each at most 256 bytes', async () => {
    const user = await app.registerUser();
    const name = `k${'é'.repeat(40)}`;
    const created = await send('POST', '/api-keys', JSON.stringify({ name }), { token: user.token });
    expect(created.status).toBe(201);
    const row = await rowFor(created.id);
    expect(row!.metadata.name).toBe(name);
    expect(row!.user_id).toBe(user.id);
  });

  it('property: any strings and objects a request could carry are written, none refused', async () => {
    const writer = app.running.app.get(AuditWriter);
    const deadBefore = writer.deadLettered;
    const text = fc.string({ unit: 'binary', maxLength: 600 });
    const ids: string[] = [];
    await fc.assert(
      fc.asyncProperty(
        text, text, fc.option(text), fc.option(text), fc.option(text),
        fc.dictionary(text, fc.anything({ maxDepth: 3, withBigInt: true, withNullPrototype: true, withSparseArray: true })),
        fc.integer(), fc.option(fc.double()),
        async (action, path, resourceId, userAgent, userId, metadata, status, duration) => {
          const id = requestId('property');
          ids.push(id);
          const entry: AuditEntry = {
            created_at: new Date(), user_id: userId, action, resource_type: action, resource_id: resourceId, status_code: status,
            method: path.slice(0, 20), path, ip: resourceId, user_agent: userAgent, request_id: id, duration_ms: duration, metadata,
          };
          await writer.recordDurably(entry);
        },
      ),
      { numRuns: 200 },
    );
    expect(writer.deadLettered).toBe(deadBefore);
    const { rows } = await app.query('SELECT count(*)::int AS n FROM audit_logs WHERE request_id = ANY($1)', [ids]);
    expect(rows[0].n).toBe(ids.length);
  });
});
