import { expectError, expectValidation } from '../support/expectations';
import { ApiResponse, RequestOptions, TestApp } from '../support/test-app';

/**
 * Code execution, end to end against the real app and real bubblewrap
 * sandboxes: POST /execute (sync, ?wait=false, /stream), GET /executions,
 * GET /executions/:id, POST /executions/:id/cancel, GET /admin/executions,
 * GET /runtimes; plan limits, daily quotas, per-user concurrency, idempotency.
 *
 * Tests that edit a plan rely on afterEach putting the free plan (and any other
 * edited plan) back to what it was, so they stay independent of order.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';
const FINISHED = ['success', 'error', 'timeout', 'memory_limit', 'output_limit', 'killed', 'internal_error'];
const RESPONSE_FIELDS = [
  'id', 'status', 'exit_code', 'stdout', 'stderr', 'execution_time_ms', 'cpu_time_ms', 'memory_used_kb', 'truncated',
  'language', 'environment', 'source', 'limits', 'code', 'created_at', 'started_at', 'finished_at',
].sort();
const FREE = { timeout_ms: 5000, memory_mb: 128 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type User = Awaited<ReturnType<TestApp['registerUser']>>;

/** The `data:` events of a Server-Sent Events body, parsed as JSON. */
function parseSse(text: string): any[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice('data:'.length).trim()));
}

/** Asserts the full wire shape of a finished run. */
function expectRunShape(body: any, expected: Record<string, unknown> = {}): void {
  const keys = Object.keys(body).filter((key) => key !== 'tests').sort();
  expect(keys).toEqual(RESPONSE_FIELDS);
  expect(body.id).toMatch(UUID);
  expect(FINISHED).toContain(body.status);
  expect(typeof body.stdout).toBe('string');
  expect(typeof body.stderr).toBe('string');
  expect(body.truncated).toEqual({ stdout: expect.any(Boolean), stderr: expect.any(Boolean) });
  expect(['python', 'javascript']).toContain(body.language);
  expect(body.environment).toBe('system');
  expect(['web', 'api']).toContain(body.source);
  expect(body.limits).toEqual({ timeout_ms: expect.any(Number), memory_mb: expect.any(Number) });
  expect(typeof body.code).toBe('string');
  expect(body.created_at).toMatch(ISO);
  expect(body.finished_at).toMatch(ISO);
  if (body.started_at !== null) {
    expect(body.started_at).toMatch(ISO);
    expect(Date.parse(body.started_at)).toBeGreaterThanOrEqual(Date.parse(body.created_at));
    expect(Date.parse(body.finished_at)).toBeGreaterThanOrEqual(Date.parse(body.started_at));
    expect(body.execution_time_ms).toEqual(expect.any(Number));
    expect(body.execution_time_ms).toBeGreaterThanOrEqual(0);
    expect(body.memory_used_kb).toEqual(expect.any(Number));
  }
  expect(body).toMatchObject(expected);
}

describe('Code execution (/api/v1/execute, /executions, /admin/executions, /runtimes)', () => {
  let app: TestApp;
  let admin: string;
  let originalPlans: Record<string, any>;
  const editedPlans = new Set<string>();

  beforeAll(async () => {
    app = await TestApp.start();
    admin = await app.adminToken();
    const plans = await app.get('/plans');
    expect(plans.status).toBe(200);
    originalPlans = Object.fromEntries(plans.body.plans.map((plan: any) => [plan.id, plan]));
  });
  afterAll(() => app.stop());

  afterEach(async () => {
    for (const id of editedPlans) {
      const { id: _id, ...fields } = originalPlans[id];
      const restored = await app.put(`/admin/plans/${id}`, fields, { token: admin });
      if (restored.status !== 200) throw new Error(`restoring plan ${id} failed: ${restored.status} ${JSON.stringify(restored.body)}`);
    }
    editedPlans.clear();
  });

  async function editPlan(id: string, changes: Record<string, unknown>): Promise<void> {
    editedPlans.add(id);
    const response = await app.put(`/admin/plans/${id}`, changes, { token: admin });
    if (response.status !== 200) throw new Error(`plan update failed: ${response.status} ${JSON.stringify(response.body)}`);
  }

  async function setLevel(user: User, level: string): Promise<void> {
    const response = await app.put(`/admin/users/${user.id}`, { level }, { token: admin });
    if (response.status !== 200) throw new Error(`level change failed: ${response.status} ${JSON.stringify(response.body)}`);
  }

  async function createKey(token: string, scopes: string[]): Promise<string> {
    const response = await app.post('/api-keys', { name: `key-${scopes.join('-')}`, scopes }, { token });
    if (response.status !== 201) throw new Error(`create key failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.key as string;
  }

  function execute(body: unknown, options: RequestOptions, query = ''): Promise<ApiResponse> {
    return app.post(`/execute${query}`, body, options);
  }

  /** A sync run that must answer 200. */
  async function run(body: unknown, options: RequestOptions): Promise<any> {
    const response = await execute(body, options);
    if (response.status !== 200) throw new Error(`execute failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** An async run (202); answers its id. */
  async function startAsync(body: unknown, options: RequestOptions): Promise<string> {
    const response = await execute(body, options, '?wait=false');
    if (response.status !== 202) throw new Error(`async execute failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.id as string;
  }

  async function getRun(id: string, options: RequestOptions): Promise<any> {
    const response = await app.get(`/executions/${id}`, options);
    if (response.status !== 200) throw new Error(`get run failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  /** Polls until the run reaches one of `statuses` (default: finished). */
  async function waitFor(id: string, options: RequestOptions, statuses = FINISHED, timeoutMs = 30_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const body = await getRun(id, options);
      if (statuses.includes(body.status)) return body;
      if (Date.now() > deadline) throw new Error(`run ${id} still ${body.status} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  async function history(token: string, query = ''): Promise<any> {
    const response = await app.get(`/executions${query}`, { token });
    if (response.status !== 200) throw new Error(`history failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  }

  describe('POST /execute', () => {
    it('runs Python and answers the full result', async () => {
      const user = await app.registerUser();
      const code = 'import sys\nprint("hello")\nprint("warn", file=sys.stderr)\n';
      const response = await execute({ code, language: 'python' }, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('application/json');
      expectRunShape(response.body, {
        status: 'success',
        exit_code: 0,
        stdout: 'hello\n',
        stderr: 'warn\n',
        truncated: { stdout: false, stderr: false },
        language: 'python',
        environment: 'system',
        source: 'web',
        limits: FREE,
        code,
      });
      expect(response.body).not.toHaveProperty('tests');
      expect(response.body.started_at).not.toBeNull();
      expect(response.body.memory_used_kb).toBeGreaterThan(0);
    });

    it('runs JavaScript (Node.js)', async () => {
      const user = await app.registerUser();
      const code = 'console.log([1, 2, 3].map((x) => x * 2).join(","));\nconsole.error("oops");';
      const body = await run({ code, language: 'javascript' }, { token: user.token });
      expectRunShape(body, { status: 'success', exit_code: 0, stdout: '2,4,6\n', stderr: 'oops\n', language: 'javascript', code });
    });

    it('defaults the language to python', async () => {
      const user = await app.registerUser();
      const body = await run({ code: 'import sys; print(sys.version_info[0])' }, { token: user.token });
      expectRunShape(body, { status: 'success', stdout: '3\n', language: 'python' });
    });

    it.each([
      ['python', 'import sys\ndata = sys.stdin.read()\nprint(data.upper(), end="")'],
      ['javascript', 'let d = ""; process.stdin.on("data", (c) => (d += c)); process.stdin.on("end", () => process.stdout.write(d.toUpperCase()));'],
    ])('passes stdin to %s', async (language, code) => {
      const user = await app.registerUser();
      const body = await run({ code, language, stdin: 'line one\nline two\n' }, { token: user.token });
      expectRunShape(body, { status: 'success', stdout: 'LINE ONE\nLINE TWO\n', language });
    });

    it.each([
      ['python', 'import sys\nprint(sys.argv[1:])', "['a b', '--flag', '']\n"],
      ['javascript', 'console.log(JSON.stringify(process.argv.slice(2)))', '["a b","--flag",""]\n'],
    ])('passes args to %s', async (language, code, expected) => {
      const user = await app.registerUser();
      const body = await run({ code, language, args: ['a b', '--flag', ''] }, { token: user.token });
      expectRunShape(body, { status: 'success', stdout: expected, language });
    });

    it.each([
      [
        'python',
        'from helpers import double\nfrom lib.more import triple\nprint(double(21), triple(2))',
        [
          { path: 'helpers.py', content: 'def double(x):\n    return 2 * x\n' },
          { path: 'lib/__init__.py', content: '' },
          { path: 'lib/more.py', content: 'def triple(x):\n    return 3 * x\n' },
        ],
      ],
      [
        'javascript',
        'const { double } = require("./helpers.js");\nconst { triple } = require("./lib/more.js");\nconsole.log(double(21), triple(2));',
        [
          { path: 'helpers.js', content: 'exports.double = (x) => 2 * x;\n' },
          { path: 'lib/more.js', content: 'exports.triple = (x) => 3 * x;\n' },
        ],
      ],
    ])('runs %s with extra files[] the entry file imports', async (language, code, files) => {
      const user = await app.registerUser();
      const body = await run({ code, language, files }, { token: user.token });
      expectRunShape(body, { status: 'success', exit_code: 0, stdout: '42 6\n', stderr: '', language });
    });

    it('runs tests[]: one verdict per case, passed true or false', async () => {
      const user = await app.registerUser();
      const tests = [
        { stdin: '2\n', expected_output: '4\n' },
        { stdin: '5\n', expected_output: '11\n' },
        { stdin: '10', expected_output: '20' },
      ];
      const body = await run({ code: 'print(int(input()) * 2)', tests }, { token: user.token });
      expectRunShape(body);
      expect(body.tests).toHaveLength(3);
      expect(body.tests.map((test: any) => test.passed)).toEqual([true, false, true]);
      body.tests.forEach((test: any, i: number) => {
        expect(test).toEqual({
          stdin: tests[i].stdin,
          expected_output: tests[i].expected_output,
          status: 'success',
          passed: i !== 1,
          exit_code: 0,
          stdout: `${parseInt(tests[i].stdin, 10) * 2}\n`,
          stderr: '',
          truncated: { stdout: false, stderr: false },
          execution_time_ms: expect.any(Number),
          memory_used_kb: expect.any(Number),
        });
      });
      // GET answers the same verdicts.
      expect((await getRun(body.id, { token: user.token })).tests).toEqual(body.tests);
    });

    it('marks a crashing test case as not passed with its own status', async () => {
      const user = await app.registerUser();
      const tests = [
        { stdin: '3', expected_output: '6' },
        { stdin: 'x', expected_output: '' },
      ];
      const body = await run({ code: 'print(int(input()) * 2)', language: 'python', tests }, { token: user.token });
      expect(body.tests.map((test: any) => [test.status, test.passed])).toEqual([
        ['success', true],
        ['error', false],
      ]);
      expect(body.tests[1].exit_code).toBe(1);
      expect(body.tests[1].stderr).toContain('ValueError');
    });

    it.each([
      ['python', 'import sys\nprint("before")\nsys.exit(3)'],
      ['javascript', 'console.log("before"); process.exit(3);'],
    ])('reports a non-zero exit in %s as status error with its exit code', async (language, code) => {
      const user = await app.registerUser();
      const body = await run({ code, language }, { token: user.token });
      expectRunShape(body, { status: 'error', exit_code: 3, stdout: 'before\n', language });
    });

    it('reports an uncaught exception as status error with the traceback on stderr', async () => {
      const user = await app.registerUser();
      const body = await run({ code: 'raise RuntimeError("boom")' }, { token: user.token });
      expectRunShape(body, { status: 'error', exit_code: 1 });
      expect(body.stderr).toContain('RuntimeError: boom');
    });

    it('stops an endless loop at timeout_ms with status timeout', async () => {
      const user = await app.registerUser();
      const started = Date.now();
      const body = await run({ code: 'while True:\n    pass', timeout_ms: 1000 }, { token: user.token });
      const elapsed = Date.now() - started;
      expectRunShape(body, { status: 'timeout', limits: { timeout_ms: 1000, memory_mb: 128 } });
      expect(body.execution_time_ms).toBeGreaterThanOrEqual(900);
      // Well below the plan's 5 s: the request's lower limit was applied (generous bound for a busy machine).
      expect(body.execution_time_ms).toBeLessThan(4000);
      expect(elapsed).toBeLessThan(8000);
    });

    it('stops a program that needs more than memory_mb with status memory_limit', async () => {
      const user = await app.registerUser();
      const body = await run({ code: 'x = bytearray(200 * 1024 * 1024)\nprint(len(x))', memory_mb: 64 }, { token: user.token });
      expectRunShape(body, { status: 'memory_limit', stdout: '', limits: { timeout_ms: 5000, memory_mb: 64 } });
    });

    it('accepts limits below the plan and reports them', async () => {
      const user = await app.registerUser();
      const body = await run({ code: 'print(1)', timeout_ms: 3000, memory_mb: 64 }, { token: user.token });
      expectRunShape(body, { status: 'success', limits: { timeout_ms: 3000, memory_mb: 64 } });
    });

    it('gives a user the limits of their plan after an admin changes their level', async () => {
      const user = await app.registerUser();
      await setLevel(user, 'basic');
      const body = await run({ code: 'print(1)', timeout_ms: 8000, memory_mb: 256 }, { token: user.token });
      expectRunShape(body, { status: 'success', limits: { timeout_ms: 8000, memory_mb: 256 } });
      const defaults = await run({ code: 'print(1)' }, { token: user.token });
      expect(defaults.limits).toEqual({ timeout_ms: 10_000, memory_mb: 256 });
    });

    it('does not limit admins by plan', async () => {
      const body = await run({ code: 'print("admin")', timeout_ms: 20_000, memory_mb: 512 }, { token: admin });
      expectRunShape(body, { status: 'success', stdout: 'admin\n', limits: { timeout_ms: 20_000, memory_mb: 512 } });
    });

    it('caps stdout and marks it truncated', async () => {
      const user = await app.registerUser();
      const body = await run({ code: 'import sys\nsys.stdout.write("x" * 200000)' }, { token: user.token });
      expect(body.truncated.stdout).toBe(true);
      expect(body.truncated.stderr).toBe(false);
      expect(body.stdout.length).toBeLessThanOrEqual(64 * 1024);
      expect(body.stdout.length).toBeGreaterThan(0);
    });

    it.each([
      ['a missing code', { language: 'python' }, 'code'],
      ['an empty code', { code: '' }, 'code'],
      ['a non-string code', { code: 42 }, 'code'],
      ['an unknown language', { code: 'x', language: 'ruby' }, 'language'],
      ['an unknown body field', { code: 'x', owner: 'someone' }, 'owner'],
      ['timeout_ms above the plan (5000)', { code: 'x', timeout_ms: 5001 }, 'timeout_ms'],
      ['memory_mb above the plan (128)', { code: 'x', memory_mb: 129 }, 'memory_mb'],
      ['a non-integer timeout_ms', { code: 'x', timeout_ms: 1500.5 }, 'timeout_ms'],
      ['a too small timeout_ms', { code: 'x', timeout_ms: 10 }, 'timeout_ms'],
      ['a too small memory_mb', { code: 'x', memory_mb: 1 }, 'memory_mb'],
      ['a non-uuid environment_id', { code: 'x', environment_id: 'abc' }, 'environment_id'],
      ['args that are not an array', { code: 'x', args: 'a b' }, 'args'],
      ['args that are not strings', { code: 'x', args: [1] }, 'args'],
      ['a parent file path', { code: 'x', files: [{ path: '../x', content: '' }] }, 'files.0.path'],
      ['an absolute file path', { code: 'x', files: [{ path: '/etc/x', content: '' }] }, 'files.0.path'],
      ['a file path through ..', { code: 'x', files: [{ path: 'a/../../b.py', content: '' }] }, 'files.0.path'],
      ['a file without content', { code: 'x', files: [{ path: 'ok.py' }] }, 'files.0.content'],
      ['files that are not an array', { code: 'x', files: 'util.py' }, 'files'],
      ['a test without expected_output', { code: 'x', tests: [{ stdin: '1' }] }, 'tests.0.expected_output'],
      ['an unknown field in a test', { code: 'x', tests: [{ expected_output: '', extra: 1 }] }, 'tests.0.extra'],
    ])('answers 400 VALIDATION_ERROR for %s', async (_name, body, field) => {
      const user = await app.registerUser();
      expectValidation(await execute(body, { token: user.token }), field);
      // Nothing was run or stored.
      expect((await history(user.token)).pagination.total).toBe(0);
    });

    it('lists every failing field at once', async () => {
      const user = await app.registerUser();
      const response = await execute({ language: 'cobol', timeout_ms: 'soon', extra: true }, { token: user.token });
      expectValidation(response, 'code', 'language', 'timeout_ms', 'extra');
    });

    it('answers 400 for both limits above the plan at once, and nothing is stored', async () => {
      const user = await app.registerUser();
      const response = await execute({ code: 'print(1)', timeout_ms: 60_000, memory_mb: 1024 }, { token: user.token });
      expectValidation(response, 'timeout_ms', 'memory_mb');
      expect((await history(user.token)).pagination.total).toBe(0);
    });

    it('answers 400 for an invalid wait parameter and an unknown query parameter', async () => {
      const user = await app.registerUser();
      expectValidation(await execute({ code: 'print(1)' }, { token: user.token }, '?wait=maybe'), 'wait');
      expectValidation(await execute({ code: 'print(1)' }, { token: user.token }, '?foo=1'), 'foo');
    });

    it('answers 404 for an environment_id that names no environment', async () => {
      const user = await app.registerUser();
      expectError(await execute({ code: 'print(1)', environment_id: UNKNOWN_ID }, { token: user.token }), 404, 'NOT_FOUND');
    });

    it('answers 401 without credentials, with a bad token or an unknown API key', async () => {
      expectError(await execute({ code: 'print(1)' }, {}), 401, 'UNAUTHORIZED');
      expectError(await execute({ code: 'print(1)' }, { token: 'not-a-jwt' }), 401, 'UNAUTHORIZED');
      expectError(await execute({ code: 'print(1)' }, { apiKey: 'sk-not-a-real-key' }), 401, 'UNAUTHORIZED');
    });

    it('answers 403 FORBIDDEN to an API key without the execute scope', async () => {
      const user = await app.registerUser();
      const key = await createKey(user.token, ['profile:read']);
      expectError(await execute({ code: 'print(1)' }, { apiKey: key }), 403, 'FORBIDDEN');
      expectError(await execute({ code: 'print(1)' }, { apiKey: key }, '?wait=false'), 403, 'FORBIDDEN');
      expect((await history(user.token)).pagination.total).toBe(0);
    });

    it("records source 'api' for a run with an API key (X-API-Key or Bearer sk-)", async () => {
      const user = await app.registerUser();
      const key = await createKey(user.token, ['execute']);
      const viaHeader = await run({ code: 'print("via key")' }, { apiKey: key });
      expectRunShape(viaHeader, { status: 'success', stdout: 'via key\n', source: 'api' });
      const viaBearer = await run({ code: 'print("via bearer")' }, { token: key });
      expectRunShape(viaBearer, { status: 'success', source: 'api' });
      const viaJwt = await run({ code: 'print("via jwt")' }, { token: user.token });
      expect(viaJwt.source).toBe('web');
      // The key reads its own runs, and the owner sees them in the history with their source.
      expect((await getRun(viaHeader.id, { apiKey: key })).source).toBe('api');
      const list = await history(user.token);
      expect(list.executions.map((e: any) => [e.id, e.source])).toEqual([
        [viaJwt.id, 'web'],
        [viaBearer.id, 'api'],
        [viaHeader.id, 'api'],
      ]);
    });

    it("accepts an API key with scope '*'", async () => {
      const user = await app.registerUser();
      const key = await createKey(user.token, ['*']);
      expectRunShape(await run({ code: 'print(2)' }, { apiKey: key }), { status: 'success', source: 'api' });
    });
  });

  describe('POST /execute?wait=false', () => {
    it('answers 202 {id, status: queued} at once; polling GET /executions/:id shows the result', async () => {
      const user = await app.registerUser();
      const code = 'import time\ntime.sleep(0.5)\nprint("done")';
      const response = await execute({ code }, { token: user.token }, '?wait=false');
      expect(response.status).toBe(202);
      expect(response.body).toEqual({ id: expect.stringMatching(UUID), status: 'queued' });
      const early = await getRun(response.body.id, { token: user.token });
      expect(['queued', 'running', 'success']).toContain(early.status);
      const done = await waitFor(response.body.id, { token: user.token });
      expectRunShape(done, { id: response.body.id, status: 'success', exit_code: 0, stdout: 'done\n', source: 'web', code });
    });

    it('runs javascript async with an API key and stores it as source api', async () => {
      const user = await app.registerUser();
      const key = await createKey(user.token, ['execute']);
      const id = await startAsync({ code: 'console.log(6 * 7)', language: 'javascript' }, { apiKey: key });
      const done = await waitFor(id, { apiKey: key });
      expectRunShape(done, { id, status: 'success', stdout: '42\n', language: 'javascript', source: 'api' });
    });

    it('validates the body like the sync run', async () => {
      const user = await app.registerUser();
      expectValidation(await execute({ language: 'python' }, { token: user.token }, '?wait=false'), 'code');
      expectValidation(await execute({ code: 'x', memory_mb: 4096 }, { token: user.token }, '?wait=false'), 'memory_mb');
      expectError(await execute({ code: 'x' }, {}, '?wait=false'), 401, 'UNAUTHORIZED');
    });
  });

  describe('POST /execute/stream', () => {
    it('streams queued, output events and the final result as Server-Sent Events', async () => {
      const user = await app.registerUser();
      const code = 'import sys, time\nprint("one", flush=True)\ntime.sleep(0.2)\nprint("err", file=sys.stderr, flush=True)\nprint("two", flush=True)';
      const response = await app.post('/execute/stream', { code }, { token: user.token });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toContain('text/event-stream');
      expect(response.headers.get('cache-control')).toContain('no-cache');
      expect(typeof response.body).toBe('string');
      const events = parseSse(response.body);
      expect(events[0]).toEqual({ type: 'queued', id: expect.stringMatching(UUID) });
      const result = events[events.length - 1];
      expect(result.type).toBe('result');
      const { type: _type, ...fields } = result;
      expectRunShape(fields, { id: events[0].id, status: 'success', exit_code: 0, stdout: 'one\ntwo\n', stderr: 'err\n', code });
      const middle = events.slice(1, -1);
      for (const event of middle) {
        expect(Object.keys(event).sort()).toEqual(['data', 'type']);
        expect(['stdout', 'stderr']).toContain(event.type);
      }
      const joined = (type: string) => middle.filter((e) => e.type === type).map((e) => e.data).join('');
      expect(joined('stdout')).toBe('one\ntwo\n');
      expect(joined('stderr')).toBe('err\n');
      // The streamed run is stored like any other.
      expect(await getRun(events[0].id, { token: user.token })).toEqual(fields);
    });

    it('streams javascript output and a non-zero exit', async () => {
      const user = await app.registerUser();
      const response = await app.post('/execute/stream', { code: 'console.log("js"); process.exit(3)', language: 'javascript' }, { token: user.token });
      expect(response.status).toBe(200);
      const events = parseSse(response.body);
      const result = events[events.length - 1];
      expect(result).toMatchObject({ type: 'result', status: 'error', exit_code: 3, stdout: 'js\n', language: 'javascript' });
      expect(events.filter((e) => e.type === 'stdout').map((e) => e.data).join('')).toBe('js\n');
    });

    it('streams one test event per case before the result', async () => {
      const user = await app.registerUser();
      const tests = [
        { stdin: '1', expected_output: '2' },
        { stdin: '2', expected_output: '5' },
      ];
      const response = await app.post('/execute/stream', { code: 'print(int(input()) * 2)', tests }, { token: user.token });
      expect(response.status).toBe(200);
      const events = parseSse(response.body);
      const testEvents = events.filter((e) => e.type === 'test');
      expect(testEvents.map((e) => e.passed)).toEqual([true, false]);
      const result = events[events.length - 1];
      expect(result.type).toBe('result');
      expect(result.tests.map((t: any) => t.passed)).toEqual([true, false]);
    });

    it('stops the run when the client goes away', async () => {
      const user = await app.registerUser();
      await setLevel(user, 'premium'); // 30 s wall time: the kill cannot be a timeout
      const abort = new AbortController();
      const response = await fetch(`${app.url}/api/v1/execute/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ code: 'import time\nprint("up", flush=True)\ntime.sleep(30)' }),
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('"type":"stdout"')) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
      }
      const id = parseSse(text.slice(0, text.indexOf('\n\n') + 2))[0].id;
      expect((await getRun(id, { token: user.token })).status).toBe('running');
      abort.abort();
      const done = await waitFor(id, { token: user.token }, FINISHED, 15_000);
      expect(done.status).toBe('killed');
    });

    it('does not stop a run that a disconnecting repeat (same Idempotency-Key) merely replays', async () => {
      const user = await app.registerUser();
      const headers = { 'idempotency-key': 'stream-replay' };
      const id = await startAsync({ code: 'import time\ntime.sleep(1.5)\nprint("kept")' }, { token: user.token, headers });
      await waitFor(id, { token: user.token }, ['running', ...FINISHED]);
      const abort = new AbortController();
      const response = await fetch(`${app.url}/api/v1/execute/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}`, ...headers },
        body: JSON.stringify({ code: 'import time\ntime.sleep(1.5)\nprint("kept")' }),
        signal: abort.signal,
      });
      expect(response.status).toBe(200);
      const first = new TextDecoder().decode((await response.body!.getReader().read()).value);
      expect(parseSse(first)[0]).toEqual({ type: 'queued', id });
      abort.abort();
      const done = await waitFor(id, { token: user.token });
      expect(done).toMatchObject({ status: 'success', stdout: 'kept\n' });
    });

    it("records source 'api' for an API key with scope execute", async () => {
      const user = await app.registerUser();
      const key = await createKey(user.token, ['execute']);
      const response = await app.post('/execute/stream', { code: 'print(1)' }, { apiKey: key });
      expect(response.status).toBe(200);
      const events = parseSse(response.body);
      expect(events[events.length - 1]).toMatchObject({ type: 'result', status: 'success', source: 'api' });
    });

    it('answers JSON errors before streaming: 400 with field details, 401, 403', async () => {
      const user = await app.registerUser();
      expectValidation(await app.post('/execute/stream', { language: 'python' }, { token: user.token }), 'code');
      expectValidation(await app.post('/execute/stream', { code: 'x', language: 'ruby' }, { token: user.token }), 'language');
      expectValidation(await app.post('/execute/stream', { code: 'x', timeout_ms: 9000 }, { token: user.token }), 'timeout_ms');
      expectValidation(await app.post('/execute/stream', { code: 'x', files: [{ path: '/etc/x', content: '' }] }, { token: user.token }), 'files.0.path');
      expectValidation(await app.post('/execute/stream', { code: 'x', nope: 1 }, { token: user.token }), 'nope');
      expectError(await app.post('/execute/stream', { code: 'x' }), 401, 'UNAUTHORIZED');
      const key = await createKey(user.token, ['code:read']);
      expectError(await app.post('/execute/stream', { code: 'x' }, { apiKey: key }), 403, 'FORBIDDEN');
      expect((await history(user.token)).pagination.total).toBe(0);
    });
  });

  describe('GET /executions/:id', () => {
    it('answers the same run as POST /execute', async () => {
      const user = await app.registerUser();
      const posted = await run({ code: 'print("same")' }, { token: user.token });
      expect(await getRun(posted.id, { token: user.token })).toEqual(posted);
    });

    it("answers 404 for another user's run and for an unknown id; an admin may read any run", async () => {
      const owner = await app.registerUser();
      const other = await app.registerUser();
      const posted = await run({ code: 'print("mine")' }, { token: owner.token });
      expectError(await app.get(`/executions/${posted.id}`, { token: other.token }), 404, 'NOT_FOUND');
      const otherKey = await createKey(other.token, ['execute']);
      expectError(await app.get(`/executions/${posted.id}`, { apiKey: otherKey }), 404, 'NOT_FOUND');
      expectError(await app.get(`/executions/${UNKNOWN_ID}`, { token: owner.token }), 404, 'NOT_FOUND');
      const asAdmin = await app.get(`/executions/${posted.id}`, { token: admin });
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body).toEqual(posted);
    });

    it('answers 400 for an id that is not a UUID', async () => {
      const user = await app.registerUser();
      expectValidation(await app.get('/executions/not-a-uuid', { token: user.token }), 'id');
      expectValidation(await app.get('/executions/123', { token: user.token }), 'id');
    });

    it('answers 401 without credentials and 403 for an API key without the execute scope', async () => {
      const user = await app.registerUser();
      const posted = await run({ code: 'print(1)' }, { token: user.token });
      expectError(await app.get(`/executions/${posted.id}`), 401, 'UNAUTHORIZED');
      const key = await createKey(user.token, ['profile:read']);
      expectError(await app.get(`/executions/${posted.id}`, { apiKey: key }), 403, 'FORBIDDEN');
    });
  });

  describe('POST /executions/:id/cancel', () => {
    it('stops a running async run quickly: status killed', async () => {
      const user = await app.registerUser();
      await setLevel(user, 'premium'); // 30 s wall time: a kill cannot be mistaken for a timeout
      const id = await startAsync({ code: 'import time\nprint("start", flush=True)\ntime.sleep(30)\nprint("never")' }, { token: user.token });
      await waitFor(id, { token: user.token }, ['running']);
      const started = Date.now();
      const response = await app.post(`/executions/${id}/cancel`, undefined, { token: user.token });
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(10_000);
      expectRunShape(response.body, { id, status: 'killed', limits: { timeout_ms: 30_000, memory_mb: 512 } });
      expect(response.body.stdout).not.toContain('never');
      expect(response.body.execution_time_ms).toBeLessThan(25_000);
      const stored = await getRun(id, { token: user.token });
      expect(stored.status).toBe('killed');
      expect(stored.finished_at).not.toBeNull();
    });

    it('stops a queued run before it starts (same user at the concurrency cap)', async () => {
      const user = await app.registerUser();
      await setLevel(user, 'premium');
      await editPlan('premium', { max_concurrent_executions: 1 });
      const first = await startAsync({ code: 'import time\ntime.sleep(30)' }, { token: user.token });
      await waitFor(first, { token: user.token }, ['running']);
      const second = await startAsync({ code: 'print("never")' }, { token: user.token });
      expect((await getRun(second, { token: user.token })).status).toBe('queued');
      const cancelled = await app.post(`/executions/${second}/cancel`, undefined, { token: user.token });
      expect(cancelled.status).toBe(200);
      expectRunShape(cancelled.body, { id: second, status: 'killed', started_at: null, stdout: '' });
      const firstCancelled = await app.post(`/executions/${first}/cancel`, undefined, { token: user.token });
      expect(firstCancelled.status).toBe(200);
      expect(firstCancelled.body.status).toBe('killed');
    });

    it('lets an API key with scope execute cancel its own run', async () => {
      const user = await app.registerUser();
      await setLevel(user, 'premium');
      const key = await createKey(user.token, ['execute']);
      const id = await startAsync({ code: 'import time\ntime.sleep(30)' }, { apiKey: key });
      await waitFor(id, { apiKey: key }, ['running']);
      const response = await app.post(`/executions/${id}/cancel`, undefined, { apiKey: key });
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ id, status: 'killed', source: 'api' });
    });

    it('answers 409 CONFLICT for a finished run, and the run is unchanged', async () => {
      const user = await app.registerUser();
      const posted = await run({ code: 'print("finished")' }, { token: user.token });
      const response = await app.post(`/executions/${posted.id}/cancel`, undefined, { token: user.token });
      expectError(response, 409, 'CONFLICT');
      expect(await getRun(posted.id, { token: user.token })).toEqual(posted);
      // A killed run cannot be cancelled again either.
      await setLevel(user, 'premium');
      const id = await startAsync({ code: 'import time\ntime.sleep(30)' }, { token: user.token });
      await waitFor(id, { token: user.token }, ['running']);
      expect((await app.post(`/executions/${id}/cancel`, undefined, { token: user.token })).status).toBe(200);
      expectError(await app.post(`/executions/${id}/cancel`, undefined, { token: user.token }), 409, 'CONFLICT');
    });

    it("answers 404 for another user's run (which keeps running) and for an unknown id", async () => {
      const owner = await app.registerUser();
      const other = await app.registerUser();
      const id = await startAsync({ code: 'import time\ntime.sleep(1)\nprint("survived")' }, { token: owner.token });
      expectError(await app.post(`/executions/${id}/cancel`, undefined, { token: other.token }), 404, 'NOT_FOUND');
      expectError(await app.post(`/executions/${UNKNOWN_ID}/cancel`, undefined, { token: owner.token }), 404, 'NOT_FOUND');
      const done = await waitFor(id, { token: owner.token });
      expect(done).toMatchObject({ status: 'success', stdout: 'survived\n' });
    });

    it('answers 400 for a non-uuid id, 401 without credentials, 403 for a key without execute', async () => {
      const user = await app.registerUser();
      expectValidation(await app.post('/executions/nope/cancel', undefined, { token: user.token }), 'id');
      const posted = await run({ code: 'print(1)' }, { token: user.token });
      expectError(await app.post(`/executions/${posted.id}/cancel`), 401, 'UNAUTHORIZED');
      const key = await createKey(user.token, ['code:write']);
      expectError(await app.post(`/executions/${posted.id}/cancel`, undefined, { apiKey: key }), 403, 'FORBIDDEN');
    });
  });

  describe('GET /executions', () => {
    it('lists only my runs, newest first, with pagination and the full shape', async () => {
      const user = await app.registerUser();
      const other = await app.registerUser();
      await run({ code: 'print("other")' }, { token: other.token });
      const ids: string[] = [];
      for (const code of ['print(1)', 'print(2)', 'print(3)']) ids.push((await run({ code }, { token: user.token })).id);
      const body = await history(user.token);
      expect(Object.keys(body).sort()).toEqual(['executions', 'pagination']);
      expect(body.pagination).toEqual({ total: 3, page: 1, limit: 20, pages: 1 });
      expect(body.executions.map((e: any) => e.id)).toEqual([...ids].reverse());
      for (const execution of body.executions) expectRunShape(execution, { status: 'success', source: 'web' });
    });

    it('filters by status and language', async () => {
      const user = await app.registerUser();
      const ok = await run({ code: 'print(1)' }, { token: user.token });
      const failed = await run({ code: 'import sys; sys.exit(3)' }, { token: user.token });
      const js = await run({ code: 'console.log(1)', language: 'javascript' }, { token: user.token });
      const jsFailed = await run({ code: 'process.exit(2)', language: 'javascript' }, { token: user.token });
      const ids = (body: any) => body.executions.map((e: any) => e.id);
      expect(ids(await history(user.token, '?status=error'))).toEqual([jsFailed.id, failed.id]);
      expect(ids(await history(user.token, '?status=success'))).toEqual([js.id, ok.id]);
      expect(ids(await history(user.token, '?language=javascript'))).toEqual([jsFailed.id, js.id]);
      expect(ids(await history(user.token, '?language=python&status=error'))).toEqual([failed.id]);
      const none = await history(user.token, '?status=timeout');
      expect(none).toEqual({ executions: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
    });

    it('filters by from and to', async () => {
      const user = await app.registerUser();
      const posted = await run({ code: 'print(1)' }, { token: user.token });
      const created = Date.parse(posted.created_at);
      const iso = (ms: number) => encodeURIComponent(new Date(ms).toISOString());
      expect((await history(user.token, `?from=${iso(created - 60_000)}`)).pagination.total).toBe(1);
      expect((await history(user.token, `?from=${iso(created + 60_000)}`)).pagination.total).toBe(0);
      expect((await history(user.token, `?to=${iso(created - 60_000)}`)).pagination.total).toBe(0);
      expect((await history(user.token, `?from=${iso(created - 60_000)}&to=${iso(created + 60_000)}`)).pagination.total).toBe(1);
    });

    it('pages through the history', async () => {
      const user = await app.registerUser();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await run({ code: `print(${i})` }, { token: user.token })).id);
      const newestFirst = [...ids].reverse();
      const page1 = await history(user.token, '?page=1&limit=2');
      const page2 = await history(user.token, '?page=2&limit=2');
      const page3 = await history(user.token, '?page=3&limit=2');
      const page4 = await history(user.token, '?page=4&limit=2');
      expect(page1.pagination).toEqual({ total: 5, page: 1, limit: 2, pages: 3 });
      expect(page3.pagination).toEqual({ total: 5, page: 3, limit: 2, pages: 3 });
      expect([...page1.executions, ...page2.executions, ...page3.executions].map((e: any) => e.id)).toEqual(newestFirst);
      expect(page4.executions).toEqual([]);
    });

    it.each([
      ['an unknown status', '?status=done', 'status'],
      ['an unknown language', '?language=ruby', 'language'],
      ['a limit above 100', '?limit=101', 'limit'],
      ['a page of 0', '?page=0', 'page'],
      ['a bad from date', '?from=yesterday', 'from'],
      ['an unknown parameter', '?user_id=00000000-0000-4000-8000-000000000000', 'user_id'],
    ])('answers 400 for %s', async (_name, query, field) => {
      const user = await app.registerUser();
      expectValidation(await app.get(`/executions${query}`, { token: user.token }), field);
    });

    it('answers 401 without credentials and 403 to an API key (a user login is needed)', async () => {
      expectError(await app.get('/executions'), 401, 'UNAUTHORIZED');
      const user = await app.registerUser();
      const key = await createKey(user.token, ['*']);
      expectError(await app.get('/executions', { apiKey: key }), 403, 'FORBIDDEN');
    });
  });

  describe('GET /admin/executions', () => {
    it("lists everyone's runs, newest first, and filters by user_id, status and language", async () => {
      const alice = await app.registerUser();
      const bob = await app.registerUser();
      const a1 = await run({ code: 'print("a1")' }, { token: alice.token });
      const b1 = await run({ code: 'console.log("b1")', language: 'javascript' }, { token: bob.token });
      const a2 = await run({ code: 'import sys; sys.exit(3)' }, { token: alice.token });

      const all = await app.get('/admin/executions?limit=100', { token: admin });
      expect(all.status).toBe(200);
      expect(Object.keys(all.body).sort()).toEqual(['executions', 'pagination']);
      const allIds = all.body.executions.map((e: any) => e.id);
      expect(allIds.slice(0, 3)).toEqual([a2.id, b1.id, a1.id]);
      expect(all.body.pagination.total).toBeGreaterThanOrEqual(3);
      for (const execution of all.body.executions) expect(Object.keys(execution).filter((k) => k !== 'tests').sort()).toEqual(RESPONSE_FIELDS);

      const ofAlice = await app.get(`/admin/executions?user_id=${alice.id}`, { token: admin });
      expect(ofAlice.status).toBe(200);
      expect(ofAlice.body.executions.map((e: any) => e.id)).toEqual([a2.id, a1.id]);
      expect(ofAlice.body.pagination).toEqual({ total: 2, page: 1, limit: 20, pages: 1 });
      expect(ofAlice.body.executions[0]).toEqual(a2);

      const aliceErrors = await app.get(`/admin/executions?user_id=${alice.id}&status=error`, { token: admin });
      expect(aliceErrors.body.executions.map((e: any) => e.id)).toEqual([a2.id]);
      const bobJs = await app.get(`/admin/executions?user_id=${bob.id}&language=javascript`, { token: admin });
      expect(bobJs.body.executions.map((e: any) => e.id)).toEqual([b1.id]);
      const paged = await app.get(`/admin/executions?user_id=${alice.id}&limit=1&page=2`, { token: admin });
      expect(paged.body.executions.map((e: any) => e.id)).toEqual([a1.id]);
      expect(paged.body.pagination).toEqual({ total: 2, page: 2, limit: 1, pages: 2 });
      const nobody = await app.get(`/admin/executions?user_id=${UNKNOWN_ID}`, { token: admin });
      expect(nobody.body).toEqual({ executions: [], pagination: { total: 0, page: 1, limit: 20, pages: 0 } });
    });

    it('answers 400 for a non-uuid user_id and other bad filters', async () => {
      expectValidation(await app.get('/admin/executions?user_id=bob', { token: admin }), 'user_id');
      expectValidation(await app.get('/admin/executions?status=nope', { token: admin }), 'status');
      expectValidation(await app.get('/admin/executions?limit=1000', { token: admin }), 'limit');
    });

    it('answers 401 without credentials and 403 FORBIDDEN to a non-admin and to API keys', async () => {
      const user = await app.registerUser();
      expectError(await app.get('/admin/executions'), 401, 'UNAUTHORIZED');
      expectError(await app.get('/admin/executions', { token: user.token }), 403, 'FORBIDDEN');
      expectError(await app.get(`/admin/executions?user_id=${user.id}`, { token: user.token }), 403, 'FORBIDDEN');
      const key = await createKey(user.token, ['*']);
      const withKey = await app.get('/admin/executions', { apiKey: key });
      expect([401, 403]).toContain(withKey.status);
    });
  });

  describe('GET /runtimes', () => {
    it('lists python and javascript with versions and the free plan limits, without credentials', async () => {
      const response = await app.get('/runtimes');
      expect(response.status).toBe(200);
      expect(response.body.sandbox).toBe('bwrap');
      const languages = response.body.runtimes.map((r: any) => r.language).sort();
      expect(languages).toEqual(['javascript', 'python']);
      for (const runtime of response.body.runtimes) {
        expect(runtime).toEqual({
          language: runtime.language,
          version: expect.stringMatching(/^v?\d+\.\d+(\.\d+)?/),
          default_timeout_ms: 5000,
          default_memory_mb: 128,
          output_limit_bytes: 64 * 1024,
        });
      }
      // The same with credentials.
      expect((await app.get('/runtimes', { token: admin })).body).toEqual(response.body);
    });

    it('follows an admin edit of the free plan', async () => {
      await editPlan('free', { execution_timeout_seconds: 7, execution_memory_mb: 96 });
      const response = await app.get('/runtimes');
      for (const runtime of response.body.runtimes) expect(runtime).toMatchObject({ default_timeout_ms: 7000, default_memory_mb: 96 });
    });

    it('answers 400 for query parameters', async () => {
      expectValidation(await app.get('/runtimes?language=python'), 'language');
    });
  });

  describe('Idempotency-Key', () => {
    it('returns the first run for a repeat: same id and result, run once, counted once', async () => {
      const user = await app.registerUser();
      await editPlan('free', { executions_per_day: 2 });
      const headers = { 'idempotency-key': 'retry-1' };
      const body = { code: 'import uuid\nprint(uuid.uuid4())' };
      const first = await execute(body, { token: user.token, headers });
      expect(first.status).toBe(200);
      const second = await execute(body, { token: user.token, headers });
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      const third = await execute(body, { token: user.token, headers }, '?wait=false');
      expect(third.status).toBe(202);
      expect(third.body.id).toBe(first.body.id);
      expect((await history(user.token)).pagination.total).toBe(1);
      // Counted once: one more run still fits in the quota of 2, the next does not.
      expect((await execute({ code: 'print(1)' }, { token: user.token })).status).toBe(200);
      expectError(await execute({ code: 'print(2)' }, { token: user.token }), 429, 'QUOTA_EXCEEDED');
      // A repeat of the first key still answers its run, even with the quota used up.
      const replay = await execute(body, { token: user.token, headers });
      expect(replay.status).toBe(200);
      expect(replay.body.id).toBe(first.body.id);
    });

    it('runs once for concurrent requests with the same key', async () => {
      const user = await app.registerUser();
      const headers = { 'idempotency-key': 'parallel' };
      const body = { code: 'import uuid, time\ntime.sleep(0.3)\nprint(uuid.uuid4())' };
      const responses = await Promise.all([1, 2, 3, 4].map(() => execute(body, { token: user.token, headers })));
      for (const response of responses) expect(response.status).toBe(200);
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
      expect(new Set(responses.map((r) => r.body.stdout)).size).toBe(1);
      expect(responses[0].body.status).toBe('success');
      expect((await history(user.token)).pagination.total).toBe(1);
    });

    it('answers the run to every concurrent repeat even when it took the last unit of quota', async () => {
      const user = await app.registerUser();
      await editPlan('free', { executions_per_day: 1 });
      const headers = { 'idempotency-key': 'edge' };
      const responses = await Promise.all([1, 2, 3, 4, 5].map(() => execute({ code: 'print("edge")' }, { token: user.token, headers })));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
      expect(new Set(responses.map((r) => r.body.id)).size).toBe(1);
      expect((await history(user.token)).pagination.total).toBe(1);
      expectError(await execute({ code: 'print(1)' }, { token: user.token }), 429, 'QUOTA_EXCEEDED');
    });

    it('returns the pending run to a repeat of an async request, then its result', async () => {
      const user = await app.registerUser();
      const headers = { 'idempotency-key': 'async-key' };
      const body = { code: 'import time\ntime.sleep(0.5)\nprint("once")' };
      const first = await execute(body, { token: user.token, headers }, '?wait=false');
      expect(first.status).toBe(202);
      const second = await execute(body, { token: user.token, headers });
      expect(second.status).toBe(200);
      expectRunShape(second.body, { id: first.body.id, status: 'success', stdout: 'once\n' });
    });

    it('keeps keys per user, and different keys run separately', async () => {
      const alice = await app.registerUser();
      const bob = await app.registerUser();
      const headers = { 'idempotency-key': 'shared-name' };
      const a = await run({ code: 'print("a")' }, { token: alice.token, headers });
      const b = await run({ code: 'print("b")' }, { token: bob.token, headers });
      expect(b.id).not.toBe(a.id);
      expect(b.stdout).toBe('b\n');
      const other = await run({ code: 'print("a")' }, { token: alice.token, headers: { 'idempotency-key': 'another' } });
      expect(other.id).not.toBe(a.id);
      expect((await history(alice.token)).pagination.total).toBe(2);
    });

    it('answers 400 for a key longer than 200 characters', async () => {
      const user = await app.registerUser();
      expectValidation(await execute({ code: 'print(1)' }, { token: user.token, headers: { 'idempotency-key': 'k'.repeat(201) } }), 'Idempotency-Key');
    });
  });

  describe('daily quota', () => {
    const nextUtcMidnight = () => {
      const now = new Date();
      return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString();
    };

    it('lets exactly executions_per_day of 20 parallel runs through; the rest answer 429 QUOTA_EXCEEDED', async () => {
      const user = await app.registerUser();
      await editPlan('free', { executions_per_day: 3 });
      const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => execute({ code: `print(${i})` }, { token: user.token })));
      const ok = responses.filter((r) => r.status === 200);
      const refused = responses.filter((r) => r.status !== 200);
      expect(ok).toHaveLength(3);
      expect(refused).toHaveLength(17);
      for (const response of ok) expect(response.body.status).toBe('success');
      for (const response of refused) {
        expectError(response, 429, 'QUOTA_EXCEEDED');
        expect(response.body.error.details.limit).toBe(3);
        expect(response.body.error.details.resets_at).toMatch(ISO);
        expect(response.body.error.details.resets_at).toBe(nextUtcMidnight());
      }
      // Only the three admitted runs were stored.
      expect((await history(user.token)).pagination.total).toBe(3);
      // Every kind of request is refused now.
      expectError(await execute({ code: 'print(1)' }, { token: user.token }, '?wait=false'), 429, 'QUOTA_EXCEEDED');
      expectError(await app.post('/execute/stream', { code: 'print(1)' }, { token: user.token }), 429, 'QUOTA_EXCEEDED');
      // Another user on the same plan has their own count.
      const other = await app.registerUser();
      expect((await execute({ code: 'print(1)' }, { token: other.token })).status).toBe(200);
    });

    it('stops a refused run at once: a sync run starts while its row is inserted, and is dropped when the quota says no', async () => {
      const user = await app.registerUser();
      await editPlan('free', { executions_per_day: 1 });
      expect((await execute({ code: 'print(1)' }, { token: user.token })).status).toBe(200);
      const started = Date.now();
      const refused = await execute({ code: 'import time\ntime.sleep(4.5)\nprint("ran")', timeout_ms: 5_000 }, { token: user.token });
      expectError(refused, 429, 'QUOTA_EXCEEDED');
      expect(Date.now() - started).toBeLessThan(2_000);
      // Nothing of it was stored, and its worker slot (the free plan allows one run at once) is free again.
      expect((await history(user.token)).pagination.total).toBe(1);
      await editPlan('free', { executions_per_day: null });
      const nextStarted = Date.now();
      const next = await execute({ code: 'print("next")' }, { token: user.token });
      expect(next.status).toBe(200);
      expect(Date.now() - nextStarted).toBeLessThan(2_000);
      expect(next.body).toMatchObject({ status: 'success', stdout: 'next\n' });
      expect((await history(user.token)).pagination.total).toBe(2);
    });

    it('follows a raised limit at once', async () => {
      const user = await app.registerUser();
      await editPlan('free', { executions_per_day: 1 });
      expect((await execute({ code: 'print(1)' }, { token: user.token })).status).toBe(200);
      expectError(await execute({ code: 'print(1)' }, { token: user.token }), 429, 'QUOTA_EXCEEDED');
      await editPlan('free', { executions_per_day: 2 });
      expect((await execute({ code: 'print(1)' }, { token: user.token })).status).toBe(200);
      await editPlan('free', { executions_per_day: null });
      expect((await execute({ code: 'print(1)' }, { token: user.token })).status).toBe(200);
    });

    it('counts API-key runs separately from JWT runs (api_executions_per_day)', async () => {
      const user = await app.registerUser();
      const key = await createKey(user.token, ['execute']);
      await editPlan('free', { executions_per_day: 1, api_executions_per_day: 2 });
      expect((await execute({ code: 'print("jwt")' }, { token: user.token })).status).toBe(200);
      const jwtRefused = await execute({ code: 'print("jwt")' }, { token: user.token });
      expectError(jwtRefused, 429, 'QUOTA_EXCEEDED');
      expect(jwtRefused.body.error.details.limit).toBe(1);
      // The JWT quota is used up, yet the key still has its own two runs.
      expect((await execute({ code: 'print("key")' }, { apiKey: key })).status).toBe(200);
      expect((await execute({ code: 'print("key")' }, { apiKey: key }, '?wait=false')).status).toBe(202);
      const keyRefused = await execute({ code: 'print("key")' }, { apiKey: key });
      expectError(keyRefused, 429, 'QUOTA_EXCEEDED');
      expect(keyRefused.body.error.details.limit).toBe(2);
      expect(keyRefused.body.error.details.resets_at).toBe(nextUtcMidnight());
      const sources = (await history(user.token)).executions.map((e: any) => e.source).sort();
      expect(sources).toEqual(['api', 'api', 'web']);
    });

    it('does not count rejected requests', async () => {
      const user = await app.registerUser();
      await editPlan('free', { executions_per_day: 1 });
      expectValidation(await execute({ code: 'x', timeout_ms: 99_999 }, { token: user.token }), 'timeout_ms');
      expectValidation(await execute({ language: 'python' }, { token: user.token }), 'code');
      expect((await execute({ code: 'print(1)' }, { token: user.token })).status).toBe(200);
    });

    it('does not limit admins', async () => {
      const me = await app.get('/users/me', { token: admin });
      expect(me.status).toBe(200);
      const level = me.body.level as string;
      await editPlan(level, { executions_per_day: 1, api_executions_per_day: 1 });
      if (level !== 'free') await editPlan('free', { executions_per_day: 1, api_executions_per_day: 1 });
      const responses = await Promise.all([1, 2, 3].map((i) => execute({ code: `print(${i})` }, { token: admin })));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    });
  });

  describe('per-user concurrency', () => {
    const twoSeconds = 'import time\ntime.sleep(2)\nprint("slept")';

    it("runs one user's async runs one at a time (free: 1) while another user's run proceeds", async () => {
      const alice = await app.registerUser();
      const bob = await app.registerUser();
      const a1 = await startAsync({ code: twoSeconds }, { token: alice.token });
      const a2 = await startAsync({ code: twoSeconds }, { token: alice.token });
      await waitFor(a1, { token: alice.token }, ['running', ...FINISHED]);
      const b = await startAsync({ code: 'print("bob")' }, { token: bob.token });
      const [first, second, bobs] = await Promise.all([
        waitFor(a1, { token: alice.token }),
        waitFor(a2, { token: alice.token }),
        waitFor(b, { token: bob.token }),
      ]);
      for (const done of [first, second]) expect(done).toMatchObject({ status: 'success', stdout: 'slept\n' });
      expect(bobs).toMatchObject({ status: 'success', stdout: 'bob\n' });
      // Alice's second run started only after her first had finished.
      expect(Date.parse(second.started_at)).toBeGreaterThanOrEqual(Date.parse(first.finished_at));
      // Bob did not wait for Alice's queue: his run started before her second did.
      expect(Date.parse(bobs.started_at)).toBeLessThan(Date.parse(second.started_at));
      expect(Date.parse(bobs.finished_at)).toBeLessThan(Date.parse(second.finished_at));
    });

    it('refuses runs at once (403, not a request that never ends) when the plan allows no concurrent runs', async () => {
      const user = await app.registerUser();
      await editPlan('free', { max_concurrent_executions: 0 });
      expectError(await execute({ code: 'print(1)' }, { token: user.token }), 403, 'FORBIDDEN');
      expectError(await execute({ code: 'print(1)' }, { token: user.token }, '?wait=false'), 403, 'FORBIDDEN');
      expect((await history(user.token)).pagination.total).toBe(0);
    });

    it('overlaps runs of one user when the plan allows two at once', async () => {
      const user = await app.registerUser();
      await editPlan('free', { max_concurrent_executions: 2 });
      const ids = [
        await startAsync({ code: twoSeconds }, { token: user.token }),
        await startAsync({ code: twoSeconds }, { token: user.token }),
      ];
      const [first, second] = await Promise.all(ids.map((id) => waitFor(id, { token: user.token })));
      expect([first.status, second.status]).toEqual(['success', 'success']);
      expect(Date.parse(second.started_at)).toBeLessThan(Date.parse(first.finished_at));
    });
  });
});
