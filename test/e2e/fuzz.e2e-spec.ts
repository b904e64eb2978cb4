import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from 'fast-check';
import { planFor, Slot } from '../support/fuzz/mutations';
import { loadOperations, Operation } from '../support/fuzz/openapi';
import { baseObject } from '../support/fuzz/values';
import { Caller, Failure, failureOf, Outcome, problemOf, report, runPool, send } from '../support/fuzz/runner';
import { ADMIN, TestApp } from '../support/test-app';

/**
 * The fuzz tier: walks every operation of the committed openapi.json and sends
 * schema-derived mutations (test/support/fuzz/mutations.ts) as an anonymous
 * caller, a normal user and the admin. No answer may be a 5xx, every 4xx must
 * come in the error envelope, and afterwards the audit trail must still write.
 * All failures are collected and reported together, grouped, with the seed:
 * FUZZ_SEED=<seed> npx jest test/e2e/fuzz.e2e-spec.ts draws the same requests.
 */

jest.setTimeout(170_000);

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const CONCURRENCY = 8;
const TIMEOUT_MS = 15_000;
/** Event streams may stay open; openapi.json does not give their media type. */
const STREAMING = new Set(['POST /api/v1/execute/stream']);
/** OAuth2's token endpoint answers its own errors in RFC 6749's shape, which OAuth2 clients (Swagger UI) read. */
const OAUTH2 = new Set(['POST /api/v1/auth/token']);
/** The OpenAI-compatible gateway answers OpenAI's error shape, which its clients parse (x-error-schema in openapi.json). */
const OPENAI = new Set(['POST /v1/chat/completions', 'GET /v1/models']);

/** FNV-1a: a stable 32-bit seed per operation, caller and slot. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface Job {
  op: Operation;
  caller: Caller;
  slot: Slot;
  seed: number;
}

describe('Fuzzing every operation of openapi.json', () => {
  let app: TestApp;
  let findLinks: string;
  let callers: Caller[];
  /** Accounts the walk must never act on through admin user operations. */
  let protectedIds: string[];
  const pathValues = new Map<string, string>();
  const failures: Failure[] = [];
  let sent = 0;

  beforeAll(async () => {
    console.log(`fuzz seed ${SEED} (rerun with FUZZ_SEED=${SEED})`);
    // pip gets an empty find-links directory and no index: installs fail fast, without network.
    // Creating a venv may take 10 s and more on a busy machine: the tool timeout leaves room.
    findLinks = mkdtempSync(join(tmpdir(), 'coderunner-fuzz-wheels-'));
    app = await TestApp.start({ PIP_FIND_LINKS: findLinks, ENVIRONMENT_INSTALL_TIMEOUT_MS: '60000' });

    const isValid = async (token: string) => (await app.get('/auth/verify', { token })).status === 200;
    const login = async (username: string, password: string) => {
      const response = await app.post('/auth/login', { username, password });
      if (response.status !== 200) throw new Error(`${username} could not log in again: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.tokens.access as string;
    };
    const adminToken = await app.adminToken();
    /**
     * Creates a fixture and returns its id. One that cannot be made (the sandbox or
     * venv tooling broken) is reported with the walk's failures and stands in as a
     * uuid that exists nowhere, so the walk still runs.
     */
    const created = async (method: string, path: string, body: unknown, token: string, what: string): Promise<string> => {
      const response = await app.request(method, path, { body, token });
      if (response.status === 200 || response.status === 201) return response.body.id as string;
      failures.push({
        operation: `${method} /api/v1${path}`, caller: 'setup', mutation: `fixture (${what})`, detail: 'a valid request, made before the walk',
        problem: `${response.status} ${response.body?.error?.code ?? '(no envelope)'}`, request: `${method} /api/v1${path}`,
        body: JSON.stringify(body), response: `${response.status} ${JSON.stringify(response.body).slice(0, 300)}`,
      });
      return randomUUID();
    };

    // The user fuzzes on a plan without small limits, so requests get past quota checks.
    const fuzzUser = await app.registerUser({ username: `fuzz_user_${SEED}`, email: `fuzz_user_${SEED}@example.test` });
    await created('PUT', `/admin/users/${fuzzUser.id}`, { level: 'enterprise' }, adminToken, 'user level');
    const adminId = (await app.get('/users/me', { token: adminToken })).body.id as string;
    protectedIds = [adminId, fuzzUser.id];
    callers = [
      new Caller('anonymous', null, null, isValid),
      new Caller('user', fuzzUser.token, () => login(fuzzUser.username, fuzzUser.password), isValid),
      new Caller('admin', adminToken, () => login(ADMIN.username, ADMIN.password), isValid),
    ];

    // Valid path parameters, so body and query mutations get past the lookup. Admin user
    // operations act on throwaway users only, one each (DELETE must not starve the others).
    const spare = await app.post('/auth/login', { username: fuzzUser.username, password: fuzzUser.password });
    const spareSession = (await app.get('/auth/sessions', { token: spare.body.tokens.access })).body.sessions.find((s: any) => s.current).id as string;
    const snippet = await created('POST', '/code-library', { title: 'fuzz', code: 'print(1)', is_public: true }, fuzzUser.token, 'snippet');
    const doomedSnippet = await created('POST', '/code-library', { title: 'fuzz delete', code: 'print(2)' }, fuzzUser.token, 'snippet to delete');
    const apiKey = await created('POST', '/api-keys', { name: 'fuzz key' }, fuzzUser.token, 'api key');
    const execution = await created('POST', '/execute', { code: 'print(1)' }, fuzzUser.token, 'execution');
    // Both accounts already own an environment with the name the base body uses, so
    // valid-looking creations end in 409 at once instead of building a venv each (10 s
    // and more on a busy machine: past the client timeout).
    const operations = loadOperations(openapiFile());
    const create = operations.find((op) => op.id === 'POST /api/v1/user-environments')!;
    const name = baseObject(create.body!.schema).name;
    const environment = await created('POST', '/user-environments', { name }, fuzzUser.token, 'environment');
    await created('POST', '/user-environments', { name }, adminToken, 'admin environment');
    for (const op of operations) {
      for (const param of op.parameters.filter((p) => p.in === 'path')) {
        const key = `${op.id} ${param.name}`;
        const p = op.path;
        if (param.name === 'package') pathValues.set(key, 'pip');
        // No such environment: the handler answers 404 after validation, without a pip run
        // (each takes seconds of CPU; `system` would run pip list for every query mutation).
        else if (param.name === 'name') pathValues.set(key, p.includes('/maintenance/') ? 'sessions.cleanup' : 'fuzz-nowhere');
        else if (p.startsWith('/api/v1/admin/users/')) pathValues.set(key, (await app.registerUser()).id);
        else if (p.startsWith('/api/v1/admin/plans/')) pathValues.set(key, 'basic');
        else if (p.startsWith('/api/v1/auth/sessions/')) pathValues.set(key, spareSession);
        else if (p.startsWith('/api/v1/api-keys/')) pathValues.set(key, apiKey);
        else if (p.startsWith('/api/v1/executions/')) pathValues.set(key, execution);
        else if (p.startsWith('/api/v1/code-library/')) pathValues.set(key, op.method === 'DELETE' ? doomedSnippet : snippet);
        else if (p.startsWith('/api/v1/codes/')) pathValues.set(key, snippet);
        else if (p.includes('user-environments/')) pathValues.set(key, environment);
        // An operation added later: a well-formed id that exists nowhere.
        else pathValues.set(key, randomUUID());
      }
    }
  });

  afterAll(async () => {
    await app?.stop();
    if (findLinks) rmSync(findLinks, { recursive: true, force: true });
  });

  function jobsFor(operations: Operation[]): Job[] {
    // DELETEs last: they may remove the fixtures the other operations' valid parts point at.
    const ordered = [...operations.filter((op) => op.method !== 'DELETE'), ...operations.filter((op) => op.method === 'DELETE')];
    const jobs: Job[] = [];
    for (const op of ordered) {
      const values = Object.fromEntries(op.parameters.filter((p) => p.in === 'path').map((p) => [p.name, pathValues.get(`${op.id} ${p.name}`)!]));
      for (const caller of callers) {
        const slots = planFor({ op, pathValues: values }, hash(`${SEED}|${op.id}|${caller.name}`));
        slots.forEach((slot, i) => jobs.push({ op, caller, slot, seed: hash(`${SEED}|${op.id}|${caller.name}|${i}`) }));
      }
    }
    return jobs;
  }

  it('answers every mutation of every operation, as every caller, with no 5xx and the error envelope on every 4xx', async () => {
    const operations = loadOperations(openapiFile());
    expect(operations.length).toBeGreaterThan(50);
    const jobs = jobsFor(operations);
    /** Per operation: how many answers each caller got that were not 401 (the walk must get past authentication). */
    const authenticatedAnswers = new Map<string, number>();
    const started = Date.now();
    const statuses = new Map<string, Map<string, number>>();
    const slowest: { ms: number; what: string }[] = [];

    await runPool(jobs, CONCURRENCY, async ({ op, caller, slot, seed }) => {
      const [request] = fc.sample(slot.arbitrary, { seed, numRuns: 1 });
      // Never: path mutations are junk or random uuids. Checked, because it would lock the walk out.
      if (op.path.startsWith('/api/v1/admin/users/') && protectedIds.some((id) => request.path.includes(id))) {
        failures.push(failureOf(op.id, op.method, caller.name, app.url, request, 'not sent: would act on a fuzzing account', { kind: 'network-error', message: 'not sent' }));
        return;
      }
      const begun = Date.now();
      let token = caller.token;
      let outcome: Outcome = await send(app.url, op.method, request, token, TIMEOUT_MS);
      try {
        if (outcome.kind === 'response' && outcome.status === 401 && (await caller.renewIfRevoked(token))) {
          token = caller.token;
          outcome = await send(app.url, op.method, request, token, TIMEOUT_MS);
        }
      } catch (error) {
        failures.push({ ...failureOf(op.id, op.method, caller.name, app.url, request, 'fuzzer lost its account', outcome), response: String(error) });
      }
      sent++;
      slowest.push({ ms: Date.now() - begun, what: `${op.id} as ${caller.name}: ${request.detail.slice(0, 60)}` });
      const status = outcome.kind === 'response' ? String(outcome.status) : outcome.kind;
      const counts = statuses.get(request.mutation) ?? new Map<string, number>();
      statuses.set(request.mutation, counts.set(status, (counts.get(status) ?? 0) + 1));
      if (caller.name !== 'anonymous' && outcome.kind === 'response' && outcome.status !== 401) {
        authenticatedAnswers.set(op.id, (authenticatedAnswers.get(op.id) ?? 0) + 1);
      }
      const problem = problemOf(outcome, { streaming: op.streaming || STREAMING.has(op.id), oauth2: OAUTH2.has(op.id), openai: OPENAI.has(op.id) }, TIMEOUT_MS);
      if (problem) failures.push(failureOf(op.id, op.method, caller.name, app.url, request, problem, outcome));
    });

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    slowest.sort((a, b) => b.ms - a.ms);
    console.log(
      [
        `fuzz: ${sent} requests to ${operations.length} operations in ${seconds} s; re-logins: ${callers.map((c) => `${c.name} ${c.renewals}`).join(', ')}`,
        ...[...statuses].map(([mutation, counts]) => `  ${mutation}: ${[...counts].sort().map(([s, n]) => `${s}×${n}`).join(' ')}`),
        `  slowest: ${slowest.slice(0, 5).map((r) => `${r.ms} ms ${r.what}`).join('; ')}`,
      ].join('\n'),
    );
    // The walk proves nothing about an operation no token got past authentication on.
    const unreached = operations.filter((op) => op.authenticated && !authenticatedAnswers.get(op.id)).map((op) => op.id);
    const messages = [
      ...(failures.length ? [report(failures, SEED)] : []),
      ...(unreached.length ? [`Never got past authentication (only 401s for user and admin): ${unreached.join(', ')}`] : []),
    ];
    if (messages.length) throw new Error(messages.join('\n\n'));
  });

  it('still writes the audit trail after the walk', async () => {
    expect(sent).toBeGreaterThan(0);
    const requestId = `fuzz-audit-${SEED}-${randomUUID()}`;
    const n = randomUUID().slice(0, 8);
    const response = await app.post(
      '/auth/register',
      { username: `fuzz_audit_${n}`, email: `fuzz_audit_${n}@example.test`, password: 'password-123' },
      { headers: { 'x-request-id': requestId } },
    );
    expect(response.status).toBe(201);
    const deadline = Date.now() + 5000;
    let rows: any[] = [];
    while (rows.length === 0 && Date.now() < deadline) {
      ({ rows } = await app.query('SELECT action, status_code FROM audit_logs WHERE request_id = $1', [requestId]));
      if (rows.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (rows.length === 0) {
      const { rows: latest } = await app.query('SELECT count(*)::int AS entries, max(created_at) AS newest FROM audit_logs');
      throw new Error(`no audit_logs row for X-Request-Id ${requestId} within 5 s (table: ${JSON.stringify(latest[0])}): audit writing stopped during the walk`);
    }
    expect(rows).toEqual([{ action: 'user.register', status_code: 201 }]);
  });
});

function openapiFile(): string {
  return join(__dirname, '..', '..', 'openapi.json');
}
