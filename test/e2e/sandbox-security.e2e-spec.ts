import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectError } from '../support/expectations';
import { TestApp } from '../support/test-app';

/**
 * Untrusted programs sent through the real HTTP API (POST /api/v1/execute),
 * proving the sandbox's isolation (README, Code execution).
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;

const CANARY = `canary-${unique()}`;
const JWT_SECRET = `jwt-${CANARY}-0123456789abcdefghijklmnopqrstuvwxyz`;
const ENCRYPTION_KEY = `enc-${CANARY}`;
const ADMIN_PASSWORD_HINT = 'admin-password-123';
/** A uid range no other app on this machine uses, so host-side scans can tell this app's sandboxes apart. */
const UID_BASE = 3_000_000 + Math.floor(Math.random() * 10_000) * 100;
const UID_RANGE = 1_000;

type Language = 'python' | 'javascript';

interface HostProcess {
  pid: number;
  uid: number;
  comm: string;
  argv: string[];
}

/** Every process on the host (as seen from the test, i.e. the service's side). */
function hostProcesses(): HostProcess[] {
  const list: HostProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1] ?? -1);
      const comm = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      list.push({ pid: Number(entry), uid, comm, argv });
    } catch {
      // The process ended while it was read.
    }
  }
  return list;
}

const isSleeper = (mark: string) => (p: HostProcess) => p.argv.some((arg) => arg.endsWith('sleep')) && p.argv.includes(mark);

/** Waits (up to `ms`) until no host process matches; returns those still there. */
async function untilGone(match: (p: HostProcess) => boolean, ms = 5_000): Promise<HostProcess[]> {
  const deadline = Date.now() + ms;
  let left = hostProcesses().filter(match);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(100);
    left = hostProcesses().filter(match);
  }
  return left;
}

/** What a run returns, as the tests read it. */
interface Run {
  status: string;
  exit_code: number | null;
  stdout: string;
  stderr: string;
  truncated: { stdout: boolean; stderr: boolean };
  /** Wall time of the whole HTTP request, measured by the test. */
  requestMs: number;
}

type RunCode = (language: Language, code: string, extra?: Record<string, unknown>) => Promise<Run>;

/** The memory verdicts: in every mode below, and with zygotes but no memory cgroups. */
function describeMemoryLimits(run: RunCode): void {
  it.each([
    ['python', 'x = bytearray(1024 * 1024 * 1024)\nprint(len(x))'],
    ['python', "chunks = []\nwhile True:\n    chunks.append(b'x' * (1024 * 1024))"],
    ['javascript', 'const a = [];\nfor (;;) a.push(new Array(100000).fill(Math.random()));'],
    ['javascript', "let s = [];\nfor (let i = 0; ; i++) s.push('x'.repeat(1024) + i);"],
  ] as Array<[Language, string]>)('%s memory bomb with memory_mb 64 → memory_limit (%#)', async (language, code) => {
    const result = await run(language, code, { memory_mb: 64, timeout_ms: 20_000 });
    expect([result.status, result.stdout]).toEqual(['memory_limit', '']);
  });

  it('javascript: memory outside the V8 heap (Buffers) is limited too', async () => {
    const code = `
const chunks = [];
for (let i = 0; i < 32; i++) chunks.push(Buffer.alloc(16 * 1024 * 1024, 1));
console.log('allocated', chunks.length * 16, 'MB');
`;
    const result = await run('javascript', code, { memory_mb: 64, timeout_ms: 20_000 });
    expect(result.stdout).not.toContain('allocated');
    expect(result.status).toBe('memory_limit');
  });

  it('python: the memory limit holds for all processes together, not only each one', async () => {
    // Each child stays under the per-process limit (128 MB of address space); eight of them hold ~480 MB.
    const code = `
import os, time
children = []
for _ in range(8):
    pid = os.fork()
    if pid == 0:
        block = b'x' * (60 * 1024 * 1024)
        time.sleep(3)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print('all done')
`;
    const result = await run('python', code, { memory_mb: 128, timeout_ms: 20_000 });
    // With a memory cgroup the kernel kills children until the tree fits (the
    // parent may still print); with the fallback watch the whole tree dies.
    // Either way the run is a memory_limit, never a success.
    expect(result.status).toBe('memory_limit');
  });
}

/**
 * Both ways a sandbox is made: cloned by a zygote (the default), and bubblewrap
 * with an interpreter of its own per run (EXECUTION_ZYGOTE=false, also what
 * environments use), the latter with the memory fallback (rlimits and a watch
 * of the tree's memory, as on machines without a writable memory cgroup).
 */
const MODES: Array<[string, Record<string, string>]> = [
  ['zygote sandboxes', {}],
  ['bubblewrap per run, memory without cgroups', { EXECUTION_ZYGOTE: 'false', SANDBOX_MEMORY_CGROUP: 'false' }],
];

describe.each(MODES)('Sandbox security (POST /api/v1/execute): %s', (_mode, modeEnv) => {
  let app: TestApp;
  let admin: string;
  let appPort: number;
  let dataDir: string;

  beforeAll(async () => {
    // Something recognisable in the service's own process environment, too.
    process.env.CODERUNNER_TEST_CANARY = CANARY;
    app = await TestApp.start({ JWT_SECRET, ENCRYPTION_KEY, SANDBOX_UID_BASE: String(UID_BASE), ...modeEnv });
    admin = await app.adminToken();
    appPort = Number(new URL(app.url).port);
    dataDir = (app as unknown as { dataDir: string }).dataDir;
    expect(existsSync(dataDir)).toBe(true);
  });
  afterAll(async () => {
    delete process.env.CODERUNNER_TEST_CANARY;
    await app?.stop();
  });

  async function execute(body: Record<string, unknown>, token = admin): Promise<Run> {
    const started = Date.now();
    const response = await app.post('/api/v1/execute', { timeout_ms: 10_000, ...body }, { token });
    const requestMs = Date.now() - started;
    if (response.status !== 200) throw new Error(`execute failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { ...response.body, requestMs };
  }

  const run: RunCode = (language, code, extra = {}) => execute({ language, code, ...extra });

  /** Runs a program that prints one JSON document and parses it. */
  async function probe(language: Language, code: string, extra: Record<string, unknown> = {}): Promise<any> {
    const result = await run(language, code, extra);
    if (result.status !== 'success') throw new Error(`probe failed: ${result.status} ${result.stdout} ${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  /** Everything the host must never show a program: its secrets, its paths. */
  function expectNoHostSecrets(text: string): void {
    for (const secret of [CANARY, JWT_SECRET, ENCRYPTION_KEY, app.databaseUrl, dataDir, ADMIN_PASSWORD_HINT, 'DATABASE_URL', 'JWT_SECRET', 'TEST_DATABASE']) {
      expect(text).not.toContain(secret);
    }
  }

  describe('no network', () => {
    it('python: cannot reach the app port or PostgreSQL, DNS fails, only lo exists', async () => {
      const result = await probe(
        'python',
        `
import json, socket
out = {}
for name, address in (('app', ('127.0.0.1', ${appPort})), ('postgres', ('127.0.0.1', 5432)), ('outside', ('1.1.1.1', 53))):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(address)
        out[name] = 'connected'
    except OSError as error:
        out[name] = 'failed: %s' % error
    finally:
        s.close()
try:
    socket.getaddrinfo('example.com', 80)
    out['dns'] = 'resolved'
except OSError as error:
    out['dns'] = 'failed: %s' % error
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b'x', ('8.8.8.8', 53))
    out['udp'] = 'sent'
except OSError as error:
    out['udp'] = 'failed: %s' % error
out['interfaces'] = sorted(name for _, name in socket.if_nameindex())
with open('/proc/net/dev') as f:
    out['proc_net_dev'] = sorted(line.split(':')[0].strip() for line in f.read().splitlines()[2:])
print(json.dumps(out))
`,
      );
      expect(result.app).toMatch(/^failed/);
      expect(result.postgres).toMatch(/^failed/);
      expect(result.outside).toMatch(/^failed/);
      expect(result.dns).toMatch(/^failed/);
      expect(result.udp).toMatch(/^failed/);
      expect(result.interfaces).toEqual(['lo']);
      expect(result.proc_net_dev).toEqual(['lo']);
    });

    it('javascript: cannot reach the app port or PostgreSQL, DNS fails, only lo exists', async () => {
      const result = await probe(
        'javascript',
        `
const net = require('net'), dns = require('dns'), os = require('os');
const connect = (port, host) => new Promise((resolve) => {
  const socket = net.connect({ port, host });
  const timer = setTimeout(() => { socket.destroy(); resolve('failed: timeout'); }, 2000);
  socket.on('connect', () => { clearTimeout(timer); socket.destroy(); resolve('connected'); });
  socket.on('error', (error) => { clearTimeout(timer); resolve('failed: ' + error.code); });
});
(async () => {
  const out = {};
  out.app = await connect(${appPort}, '127.0.0.1');
  out.postgres = await connect(5432, '127.0.0.1');
  out.outside = await connect(443, '1.1.1.1');
  out.dns = await new Promise((resolve) => dns.lookup('example.com', (error) => resolve(error ? 'failed: ' + error.code : 'resolved')));
  out.fetch = await fetch('http://127.0.0.1:${appPort}/api/v1/health').then(() => 'fetched', (error) => 'failed: ' + error.message);
  out.interfaces = Object.keys(os.networkInterfaces()).sort();
  console.log(JSON.stringify(out));
})();
`,
      );
      expect(result.app).toMatch(/^failed/);
      expect(result.postgres).toMatch(/^failed/);
      expect(result.outside).toMatch(/^failed/);
      expect(result.dns).toMatch(/^failed/);
      expect(result.fetch).toMatch(/^failed/);
      expect(result.interfaces).toEqual(['lo']);
    });
  });

  describe("the host's environment is invisible", () => {
    const allowed = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'LC_CTYPE', 'PYTHONIOENCODING', 'PYTHONDONTWRITEBYTECODE', 'PYTHONUNBUFFERED', 'PWD', 'SHLVL', '_'];

    it('python: os.environ and every readable /proc/*/environ hold nothing of the host', async () => {
      const result = await run(
        'python',
        `
import json, os
environs = {}
for pid in os.listdir('/proc'):
    if pid.isdigit():
        for name in ('environ', 'cmdline'):
            try:
                with open('/proc/%s/%s' % (pid, name), 'rb') as f:
                    environs[pid + '/' + name] = f.read().decode('utf-8', 'replace')
            except OSError as error:
                environs[pid + '/' + name] = 'unreadable: %s' % type(error).__name__
print(json.dumps({'environ': dict(os.environ), 'proc': environs}))
`,
      );
      expect(result.status).toBe('success');
      const out = JSON.parse(result.stdout);
      expect(Object.keys(out.environ).filter((key) => !allowed.includes(key))).toEqual([]);
      expect(out.proc['1/environ']).toBeDefined();
      expectNoHostSecrets(result.stdout);
      expectNoHostSecrets(result.stderr);
    });

    it('javascript: process.env and every readable /proc/*/environ hold nothing of the host', async () => {
      const result = await run(
        'javascript',
        `
const fs = require('fs');
const proc = {};
for (const pid of fs.readdirSync('/proc').filter((name) => /^\\d+$/.test(name))) {
  for (const name of ['environ', 'cmdline']) {
    try { proc[pid + '/' + name] = fs.readFileSync('/proc/' + pid + '/' + name, 'utf8'); }
    catch (error) { proc[pid + '/' + name] = 'unreadable: ' + error.code; }
  }
}
console.log(JSON.stringify({ environ: process.env, proc }));
`,
      );
      expect(result.status).toBe('success');
      const out = JSON.parse(result.stdout);
      expect(Object.keys(out.environ).filter((key) => !allowed.includes(key))).toEqual([]);
      expectNoHostSecrets(result.stdout);
      expectNoHostSecrets(result.stderr);
    });

    it('sees only its own processes: /proc lists a handful of sandbox pids and no host process', async () => {
      const out = await probe(
        'python',
        `
import json, os
pids = [p for p in os.listdir('/proc') if p.isdigit()]
names = {}
for p in pids:
    try:
        with open('/proc/%s/comm' % p) as f:
            names[p] = f.read().strip()
    except OSError:
        pass
print(json.dumps({'pids': pids, 'names': names}))
`,
      );
      expect(out.pids.length).toBeLessThanOrEqual(5);
      expect(Object.values(out.names)).not.toContain('node');
      expect(Object.values(out.names)).not.toContain('postgres');
    });
  });

  describe('host files are unreadable', () => {
    const paths = () => [
      '/etc/shadow',
      '/etc/passwd',
      '/etc/hostname',
      '/root',
      '/root/.bashrc',
      '/home',
      '/var',
      '/opt',
      process.cwd(),
      join(process.cwd(), 'package.json'),
      join(process.cwd(), '.env'),
      __filename,
      dataDir,
      '/work/main',
      '/sys',
      '/proc/1/root/etc/shadow',
      '/proc/1/root' + process.cwd(),
      '/proc/1/root' + dataDir,
    ];

    it('python: /etc/shadow, /root, /home, the service directory and DATA_DIR cannot be read', async () => {
      const out = await probe(
        'python',
        `
import json, os
out = {}
for path in json.loads(${JSON.stringify(JSON.stringify(paths()))}):
    try:
        if os.path.isdir(path):
            out[path] = 'listed: %s' % os.listdir(path)
        else:
            with open(path, 'rb') as f:
                out[path] = 'read: %r' % f.read(200)
    except OSError as error:
        out[path] = 'denied: %s' % type(error).__name__
out['/'] = sorted(os.listdir('/'))
out['/etc'] = sorted(os.listdir('/etc'))
out['/work'] = sorted(os.listdir('/work'))
print(json.dumps(out))
`,
      );
      for (const path of paths()) {
        // Not there at all is best; an empty mount point (/proc/1/root of the sandbox's own pid 1) shows nothing either.
        expect([path, out[path]]).toEqual([path, expect.stringMatching(/^denied: (FileNotFoundError|PermissionError|NotADirectoryError)$/)]);
      }
      const allowedTop = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'usr', 'etc', 'proc', 'dev', 'tmp', 'work'];
      expect(out['/'].filter((name: string) => !allowedTop.includes(name))).toEqual([]);
      expect(out['/etc'].filter((name: string) => !['ld.so.cache', 'localtime'].includes(name))).toEqual([]);
      expect(out['/work']).toEqual(['main.py']);
    });

    it('javascript: /etc/shadow, /root, /home, the service directory and DATA_DIR cannot be read', async () => {
      const out = await probe(
        'javascript',
        `
const fs = require('fs');
const out = {};
for (const path of ${JSON.stringify(paths())}) {
  try {
    out[path] = fs.statSync(path).isDirectory() ? 'listed: ' + fs.readdirSync(path) : 'read: ' + fs.readFileSync(path, 'utf8').slice(0, 200);
  } catch (error) { out[path] = 'denied: ' + error.code; }
}
console.log(JSON.stringify(out));
`,
      );
      for (const path of paths()) expect([path, out[path]]).toEqual([path, expect.stringMatching(/^denied: (ENOENT|EACCES|EPERM|ENOTDIR)$/)]);
    });
  });

  describe('no writes outside the sandbox', () => {
    it.each([['python'], ['javascript']] as Array<[Language]>)('%s: writing to /usr, /etc, /, /bin, /proc/sys fails', async (language) => {
      const targets = ['/usr/pwned', '/usr/bin/pwned', '/etc/pwned', '/etc/ld.so.cache', '/pwned', '/bin/pwned', '/dev/pwned', '/proc/sys/kernel/hostname'];
      const code =
        language === 'python'
          ? `
import json
out = {}
for path in ${JSON.stringify(targets)}:
    try:
        with open(path, 'w') as f:
            f.write('x')
        out[path] = 'written'
    except OSError as error:
        out[path] = 'failed: %s' % type(error).__name__
print(json.dumps(out))
`
          : `
const fs = require('fs');
const out = {};
for (const path of ${JSON.stringify(targets)}) {
  try { fs.writeFileSync(path, 'x'); out[path] = 'written'; } catch (error) { out[path] = 'failed: ' + error.code; }
}
console.log(JSON.stringify(out));
`;
      const out = await probe(language, code);
      for (const path of targets) expect([path, out[path]]).toEqual([path, expect.stringMatching(/^failed/)]);
      for (const path of ['/usr/pwned', '/usr/bin/pwned', '/etc/pwned', '/pwned']) expect(existsSync(path)).toBe(false);
    });

    it.each([['python'], ['javascript']] as Array<[Language]>)(
      '%s: a file in /tmp or /work is gone in the next run and never on the host',
      async (language) => {
        const name = `sandbox-leak-${unique()}`;
        const write =
          language === 'python'
            ? `
for path in ('/tmp/${name}', '/work/${name}', '${name}.txt'):
    with open(path, 'w') as f:
        f.write('secret')
print('written')
`
            : `
const fs = require('fs');
for (const path of ['/tmp/${name}', '/work/${name}', '${name}.txt']) fs.writeFileSync(path, 'secret');
console.log('written');
`;
        const check =
          language === 'python'
            ? `import os\nprint([os.path.exists(p) for p in ('/tmp/${name}', '/work/${name}', '${name}.txt')])`
            : `const fs = require('fs');\nconsole.log(JSON.stringify(['/tmp/${name}', '/work/${name}', '${name}.txt'].map((p) => fs.existsSync(p))).replace(/,/g, ', ').replace(/false/g, 'False'))`;
        const first = await run(language, write);
        expect([first.status, first.stdout]).toEqual(['success', 'written\n']);
        const second = await run(language, check);
        expect([second.status, second.stdout]).toEqual(['success', '[False, False, False]\n']);
        for (const dir of [tmpdir(), '/tmp', '/work', process.cwd(), dataDir]) {
          expect(existsSync(join(dir, name))).toBe(false);
          expect(existsSync(join(dir, `${name}.txt`))).toBe(false);
        }
      },
    );

    it('the writable places (/tmp, /work, /dev, /dev/shm) are bounded: filling them does not eat host memory', async () => {
      const result = await run(
        'python',
        `
import json, os
out = {}
for directory in ('/tmp', '/work', '/dev', '/dev/shm'):
    written = 0
    try:
        for i in range(40):
            with open('%s/fill%d' % (directory, i), 'wb') as f:
                for _ in range(8):
                    f.write(b'x' * (1024 * 1024))
                    written += 1
    except OSError as error:
        pass
    out[directory] = written
print(json.dumps(out))
`,
        { timeout_ms: 30_000 },
      );
      expect(result.status).toBe('success');
      const out = JSON.parse(result.stdout);
      // 320 MB each if nothing stopped it; the private tmpfs mounts hold 64 MB.
      for (const directory of ['/tmp', '/work', '/dev', '/dev/shm']) expect([directory, out[directory]]).toEqual([directory, expect.any(Number)]);
      for (const directory of ['/tmp', '/work', '/dev', '/dev/shm']) expect([directory, out[directory] <= 64]).toEqual([directory, true]);
    });

    it('a file larger than the file-size limit cannot be written', async () => {
      const result = await run('python', `
import os
try:
    with open('/tmp/big', 'wb') as f:
        for _ in range(32):
            f.write(b'x' * (1024 * 1024))
    print('wrote', os.path.getsize('/tmp/big'))
except OSError as error:
    print('stopped', type(error).__name__)
`);
      expect(result.stdout).not.toContain('wrote');
    });
  });

  describe('symlink tricks', () => {
    it.each([['../escape.py'], ['/etc/cron.d/pwned'], ['a/../../escape.py'], ['./../x.py'], ['..']])(
      'files[] path %s is rejected before anything runs',
      async (path) => {
        const response = await app.post('/api/v1/execute', { code: 'print(1)', files: [{ path, content: 'x' }] }, { token: admin });
        expectError(response, 400, 'VALIDATION_ERROR');
      },
    );

    it('files[] land inside the sandbox only, in subdirectories too', async () => {
      const name = `pkg_${unique()}`;
      const result = await run('python', `from ${name}.util import double\nimport os\nprint(double(21), os.path.realpath('${name}/util.py'))`, {
        files: [
          { path: `${name}/__init__.py`, content: '' },
          { path: `${name}/util.py`, content: 'def double(x):\n    return 2 * x\n' },
        ],
      });
      expect([result.status, result.stdout]).toEqual(['success', `42 /work/${name}/util.py\n`]);
      for (const dir of ['/work', process.cwd(), tmpdir(), dataDir]) expect(existsSync(join(dir, name))).toBe(false);
    });

    it('a symlink made by the code to /etc/shadow, DATA_DIR or the service directory shows nothing of the host', async () => {
      const targets = ['/etc/shadow', dataDir, process.cwd(), join(process.cwd(), 'package.json'), '/root', '/proc/1/root/etc/shadow'];
      const out = await probe(
        'python',
        `
import json, os
out = {}
for i, target in enumerate(json.loads(${JSON.stringify(JSON.stringify(targets))})):
    link = '/tmp/link%d' % i
    os.symlink(target, link)
    try:
        if os.path.isdir(link):
            out[target] = 'listed: %s' % os.listdir(link)
        else:
            with open(link, 'rb') as f:
                out[target] = 'read: %r' % f.read(200)
    except OSError as error:
        out[target] = 'denied: %s' % type(error).__name__
print(json.dumps(out))
`,
      );
      for (const target of targets) expect([target, out[target]]).toEqual([target, expect.stringMatching(/^denied/)]);
    });

    it('writing through a symlink made by the code never reaches the host', async () => {
      const name = `via-link-${unique()}`;
      const hostTargets = [join(tmpdir(), name), join(dataDir, name), join(process.cwd(), name)];
      const out = await probe(
        'python',
        `
import json, os
out = {}
for i, target in enumerate(json.loads(${JSON.stringify(JSON.stringify(hostTargets))})):
    link = 'link%d' % i
    os.symlink(target, link)
    try:
        with open(link, 'w') as f:
            f.write('pwned')
        out[target] = 'written'
    except OSError as error:
        out[target] = 'failed: %s' % type(error).__name__
print(json.dumps(out))
`,
      );
      expect(Object.keys(out)).toHaveLength(hostTargets.length);
      for (const target of hostTargets) expect(existsSync(target)).toBe(false);
    });

    it('the platform does not follow symlinks the code left behind: each test case starts from fresh files', async () => {
      const name = `left-behind-${unique()}`;
      const hostTarget = join(dataDir, name);
      const response = await app.post(
        '/api/v1/execute',
        {
          timeout_ms: 10_000,
          code: `
import os, sys
case = sys.stdin.read().strip()
print(case, os.path.islink('data.txt'), os.path.islink('main.py'), open('data.txt').read())
# Leave traps behind for whatever writes these files next.
for path in ('data.txt', 'main.py', 'sub'):
    try:
        if os.path.isdir(path):
            os.rename(path, path + '.old')
        else:
            os.remove(path)
    except OSError:
        pass
    os.symlink('${hostTarget}', path)
`,
          files: [
            { path: 'data.txt', content: 'hello' },
            { path: 'sub/inner.txt', content: 'inner' },
          ],
          tests: [
            { stdin: '1', expected_output: '1 False False hello\n' },
            { stdin: '2', expected_output: '2 False False hello\n' },
          ],
        },
        { token: admin },
      );
      expect(response.status).toBe(200);
      expect(response.body.tests.map((test: { passed: boolean; stdout: string }) => [test.passed, test.stdout])).toEqual([
        [true, '1 False False hello\n'],
        [true, '2 False False hello\n'],
      ]);
      expect(existsSync(hostTarget)).toBe(false);
    });
  });

  describe('privileges', () => {
    it('python: runs as uid 65534, without capabilities, cannot raise rlimits, setuid or unshare', async () => {
      const out = await probe(
        'python',
        `
import ctypes, json, os, resource, subprocess
out = {'uid': os.getuid(), 'euid': os.geteuid(), 'gid': os.getgid(), 'groups': os.getgroups()}
with open('/proc/self/status') as f:
    status = dict(line.split(':\\t', 1) for line in f.read().splitlines() if ':\\t' in line)
out['cap_eff'] = status['CapEff'].strip()
out['cap_prm'] = status['CapPrm'].strip()
out['no_new_privs'] = status.get('NoNewPrivs', '').strip()
def attempt(name, fn):
    try:
        fn()
        out[name] = 'allowed'
    except (OSError, ValueError) as error:
        out[name] = 'denied: %s' % type(error).__name__
attempt('setuid0', lambda: os.setuid(0))
attempt('setgid0', lambda: os.setgid(0))
for limit in ('RLIMIT_NPROC', 'RLIMIT_CPU', 'RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE'):
    soft, hard = resource.getrlimit(getattr(resource, limit))
    out[limit] = [soft, hard]
    attempt('raise_' + limit, lambda: resource.setrlimit(getattr(resource, limit), (resource.RLIM_INFINITY, resource.RLIM_INFINITY)))
libc = ctypes.CDLL(None, use_errno=True)
for name, flag in (('user', 0x10000000), ('net', 0x40000000), ('mount', 0x00020000), ('pid', 0x20000000)):
    out['unshare_' + name] = libc.unshare(flag)
try:
    done = subprocess.run(['unshare', '--user', '--map-root-user', 'id', '-u'], capture_output=True, timeout=5)
    out['unshare_cmd'] = [done.returncode, done.stdout.decode().strip()]
except OSError as error:
    out['unshare_cmd'] = [None, type(error).__name__]
attempt('chroot', lambda: os.chroot('/tmp'))
attempt('mknod', lambda: os.mknod('/tmp/dev', 0o600 | 0o60000, os.makedev(8, 0)))
print(json.dumps(out))
`,
      );
      expect([out.uid, out.euid, out.gid]).toEqual([65534, 65534, 65534]);
      expect(out.cap_eff).toBe('0000000000000000');
      expect(out.cap_prm).toBe('0000000000000000');
      expect(out.setuid0).toMatch(/^denied/);
      expect(out.setgid0).toMatch(/^denied/);
      for (const limit of ['RLIMIT_NPROC', 'RLIMIT_CPU', 'RLIMIT_AS', 'RLIMIT_FSIZE', 'RLIMIT_NOFILE']) {
        expect(out[limit][1]).not.toBe(-1); // RLIM_INFINITY: every one of these is limited
        expect([limit, out[`raise_${limit}`]]).toEqual([limit, expect.stringMatching(/^denied/)]);
      }
      expect([out.unshare_user, out.unshare_net, out.unshare_mount, out.unshare_pid]).toEqual([-1, -1, -1, -1]);
      expect(out.unshare_cmd[0]).not.toBe(0);
      expect(out.chroot).toMatch(/^denied/);
      expect(out.mknod).toMatch(/^denied/);
    });

    it('javascript: runs as uid 65534, cannot setuid or unshare', async () => {
      const out = await probe(
        'javascript',
        `
const { spawnSync } = require('child_process');
const out = { uid: process.getuid(), euid: process.geteuid(), gid: process.getgid() };
try { process.setuid(0); out.setuid0 = 'allowed'; } catch (error) { out.setuid0 = 'denied: ' + error.code; }
const unshare = spawnSync('unshare', ['--user', '--map-root-user', 'id', '-u']);
out.unshare = unshare.status;
console.log(JSON.stringify(out));
`,
      );
      expect([out.uid, out.euid, out.gid]).toEqual([65534, 65534, 65534]);
      expect(out.setuid0).toMatch(/^denied/);
      expect(out.unshare).not.toBe(0);
    });

    it('on the host, every process of a run has an unprivileged uid of its own (not root, not the service)', async () => {
      const mark = `mark-${unique()}`;
      const pending = run('javascript', 'setTimeout(() => console.log("done"), 2500);', { args: [mark] });
      let seen: HostProcess[] = [];
      const deadline = Date.now() + 8_000;
      while (seen.length === 0 && Date.now() < deadline) {
        await sleep(100);
        seen = hostProcesses().filter((p) => p.argv.includes(mark));
      }
      const result = await pending;
      expect(result.status).toBe('success');
      expect(seen.length).toBeGreaterThan(0);
      for (const p of seen) {
        expect(p.uid).toBeGreaterThanOrEqual(UID_BASE);
        expect(p.uid).toBeLessThan(UID_BASE + UID_RANGE);
      }
    });
  });

  describe("the launcher's channels are out of reach", () => {
    it.each([['python'], ['javascript']] as Array<[Language]>)(
      "%s: the program cannot open the launcher's report pipe through /proc, nor ptrace it",
      async (language) => {
        const code =
          language === 'python'
            ? `
import ctypes, json, os, sys
out = {}
parent = os.getppid()
for fd in (3, 4):
    try:
        handle = os.open('/proc/%d/fd/%d' % (parent, fd), os.O_WRONLY | os.O_NONBLOCK)
        os.write(handle, b'{"exit_code": 0, "signal": null, "cpu_ms": 0, "wall_ms": 0, "max_rss_kb": 0, "memory_error": true}')
        out[str(fd)] = 'opened'
    except OSError as error:
        out[str(fd)] = 'denied: %s' % type(error).__name__
libc = ctypes.CDLL(None, use_errno=True)
out['ptrace'] = libc.ptrace(16, parent, None, None)  # PTRACE_ATTACH
try:
    with open('/proc/%d/mem' % parent, 'rb') as f:
        out['mem'] = 'opened'
except OSError as error:
    out['mem'] = 'denied: %s' % type(error).__name__
print(json.dumps(out))
sys.exit(3)
`
            : `
const fs = require('fs');
const out = {};
for (const fd of [3, 4]) {
  try {
    const handle = fs.openSync('/proc/' + process.ppid + '/fd/' + fd, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(handle, '{"exit_code": 0, "signal": null, "cpu_ms": 0, "wall_ms": 0, "max_rss_kb": 0, "memory_error": true}');
    out[fd] = 'opened';
  } catch (error) { out[fd] = 'denied: ' + error.code; }
}
try { fs.openSync('/proc/' + process.ppid + '/mem', 'r'); out.mem = 'opened'; } catch (error) { out.mem = 'denied: ' + error.code; }
console.log(JSON.stringify(out));
process.exit(3);
`;
        const result = await run(language, code);
        // The program's own result, not one it forged: exit code 3.
        expect([result.status, result.exit_code]).toEqual(['error', 3]);
        const out = JSON.parse(result.stdout);
        expect(out['3']).toMatch(/^denied/);
        expect(out['4']).toMatch(/^denied/);
        expect(out.mem).toMatch(/^denied/);
        if (language === 'python') expect(out.ptrace).toBe(-1);
      },
    );

    it("a flood written into the launcher's report pipe does not pile up in the service", async () => {
      const result = await run(
        'python',
        `
import os
try:
    handle = os.open('/proc/%d/fd/4' % os.getppid(), os.O_WRONLY)
except OSError as error:
    print('denied', type(error).__name__)
else:
    chunk = b'x' * (1024 * 1024)
    for _ in range(512):
        os.write(handle, chunk)
    print('flooded')
`,
        { timeout_ms: 20_000 },
      );
      expect(result.stdout).toMatch(/^denied/);
    });
  });

  describe('resource limits', () => {
    async function expectHealthyDuring<T>(work: Promise<T>): Promise<T> {
      await sleep(1_000);
      const started = Date.now();
      const health = await app.get('/api/v1/health');
      expect(health.status).toBe(200);
      expect(Date.now() - started).toBeLessThan(5_000);
      return work;
    }

    const ownProcesses = () => hostProcesses().filter((p) => p.uid >= UID_BASE && p.uid < UID_BASE + UID_RANGE);

    /**
     * Waits until no sandbox uid has more processes than an idle zygote holding a
     * prepared sandbox (bwrap, its pid 1, the process bwrap started, the relay and the
     * zygote; the sandbox's pid 1 and its program's process, made ahead of the job);
     * returns the uids that still do.
     */
    async function untilCalm(ms = 5_000): Promise<Array<[number, number]>> {
      const crowded = () => {
        const perUid = new Map<number, number>();
        for (const p of ownProcesses()) perUid.set(p.uid, (perUid.get(p.uid) ?? 0) + 1);
        return [...perUid].filter(([, count]) => count > 7);
      };
      const deadline = Date.now() + ms;
      let left = crowded();
      while (left.length > 0 && Date.now() < deadline) {
        await sleep(100);
        left = crowded();
      }
      return left;
    }

    it('python os.fork bomb ends within the time limit and the host stays responsive', async () => {
      const code = `
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
`;
      const result = await expectHealthyDuring(run('python', code, { timeout_ms: 3_000 }));
      expect(['timeout', 'error']).toContain(result.status);
      expect(result.requestMs).toBeLessThan(3_000 + 5_000);
      // Nothing of the bomb survives: each sandbox uid is left with at most an idle zygote and its prepared sandbox.
      expect(await untilCalm()).toEqual([]);
    });

    it('a shell fork bomb :(){ :|:& };: ends within the time limit and the host stays responsive', async () => {
      const code = `
import os, subprocess, time
assert os.path.exists('/bin/sh')
subprocess.run(['/bin/sh', '-c', ':(){ :|:& };:'])
time.sleep(2)
print('survived')
`;
      const result = await expectHealthyDuring(run('python', code, { timeout_ms: 4_000 }));
      expect(['success', 'timeout', 'error']).toContain(result.status);
      expect(result.requestMs).toBeLessThan(4_000 + 5_000);
      const left = await untilGone((p) => p.comm === 'sh' && p.uid >= UID_BASE && p.uid < UID_BASE + UID_RANGE);
      expect(left).toEqual([]);
      const health = await app.get('/api/v1/health');
      expect(health.status).toBe(200);
    });

    it('javascript fork bomb (spawning node children) ends within the time limit', async () => {
      const code = `
const { spawn } = require('child_process');
const bomb = () => { try { spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' }).on('error', () => {}); } catch {} setImmediate(bomb); };
bomb();
`;
      const result = await expectHealthyDuring(run('javascript', code, { timeout_ms: 3_000 }));
      expect(['timeout', 'error']).toContain(result.status);
      expect(result.requestMs).toBeLessThan(3_000 + 5_000);
      const left = await untilGone((p) => p.argv.includes('setInterval(() => {}, 1000)'));
      expect(left).toEqual([]);
    });

    describeMemoryLimits(run);

    it.each([
      ['python', 'while True:\n    pass'],
      ['javascript', 'for (;;) {}'],
      ['python', 'import time\ntime.sleep(100)'],
      ['javascript', 'setTimeout(() => {}, 100000);'],
    ] as Array<[Language, string]>)('%s: an endless program with timeout_ms 1000 → timeout (%#)', async (language, code) => {
      const result = await run(language, code, { timeout_ms: 1_000 });
      expect(result.status).toBe('timeout');
      expect(result.requestMs).toBeLessThan(1_000 + 1_500);
    });

    it.each([
      ['python', "import sys\nfor _ in range(20):\n    sys.stdout.write('x' * (1024 * 1024))", 'stdout'],
      ['javascript', "for (let i = 0; i < 20; i++) process.stdout.write('x'.repeat(1024 * 1024));", 'stdout'],
      ['python', "import sys\nfor _ in range(20):\n    sys.stderr.write('x' * (1024 * 1024))", 'stderr'],
    ] as Array<[Language, string, 'stdout' | 'stderr']>)('%s: a 20 MB flood → output_limit, truncated to 64 KiB (%#)', async (language, code, stream) => {
      const result = await run(language, code);
      expect(result.status).toBe('output_limit');
      expect(result.truncated[stream]).toBe(true);
      expect(result[stream].length).toBeLessThanOrEqual(64 * 1024);
      expect(result[stream].length).toBeGreaterThan(0);
    });

    it.each([
      ['python', "print('y' * 100000)"],
      ['javascript', "console.log('y'.repeat(100000));"],
    ] as Array<[Language, string]>)('%s: 100 KB of output → success, stdout truncated at 64 KiB', async (language, code) => {
      const result = await run(language, code);
      expect(result.status).toBe('success');
      expect(result.truncated).toEqual({ stdout: true, stderr: false });
      expect(result.stdout).toBe('y'.repeat(64 * 1024));
    });
  });

  // Only zygote sandboxes have a zygote.
  if (modeEnv.EXECUTION_ZYGOTE !== 'false') {
    describe('the zygote that cloned the sandbox', () => {
      const parentOf = (pid: number) => Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      /** The zygotes' first processes (and any launcher run by bubblewrap directly): python3 processes of a sandbox uid whose parent is bwrap. */
      const zygotes = () =>
        hostProcesses().filter((p) => {
          if (p.comm !== 'python3' || p.uid < UID_BASE || p.uid >= UID_BASE + UID_RANGE) return false;
          try {
            return readFileSync(`/proc/${parentOf(p.pid)}/comm`, 'utf8').trim() === 'bwrap';
          } catch {
            return false;
          }
        });

      it('a run sees only its own processes, and signalling everything it can reach leaves later runs working', async () => {
        const out = await probe(
          'python',
          `
import json, os, signal
import time
out = {'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), 'me': os.getpid(), 'parent': os.getppid()}
try:
    os.kill(-1, signal.SIGKILL)
    out['kill_all'] = 'sent'
except OSError as error:
    out['kill_all'] = type(error).__name__
# Pid 1 ignores every signal sent from inside its namespace (it handles none).
for number in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT, signal.SIGSTOP):
    os.kill(1, number)
# Orphans go to pid 1, which lets the kernel reap them: no zombie is left.
for _ in range(5):
    if os.fork() == 0:
        if os.fork() == 0:
            os._exit(0)
        os._exit(0)
    os.wait()
time.sleep(0.2)
states = {int(p): open('/proc/%s/stat' % p).read().split()[2] for p in os.listdir('/proc') if p.isdigit()}
out['pid_1'] = states[1]
out['zombies'] = sorted(p for p, state in states.items() if state == 'Z')
print(json.dumps(out))
`,
        );
        // Its pid 1 (which holds nothing) and itself, whose parent is outside its pid
        // namespace: no zygote, no other run. Pid 1 still waits, asleep.
        expect(out).toEqual({ pids: [1, 2], me: 2, parent: 0, kill_all: 'ProcessLookupError', pid_1: 'S', zombies: [] });
        for (let i = 0; i < 6; i++) expect((await run('python', 'print(6 * 7)')).stdout).toBe('42\n');
      });

      it('a zygote killed on its own (not its relay) is replaced, and later runs still work', async () => {
        expect((await run('python', 'print(1)')).stdout).toBe('1\n');
        const childrenOf = (pid: number) =>
          readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
            .split(' ')
            .filter(Boolean)
            .map(Number);
        // The process bubblewrap started has one child, the relay; the relay's first child is the zygote.
        const relays = zygotes().flatMap((first) => childrenOf(first.pid));
        const cloners = relays.map((relay) => Math.min(...childrenOf(relay)));
        expect(cloners.length).toBeGreaterThan(0);
        for (const pid of cloners) process.kill(pid, 'SIGKILL');
        for (let i = 0; i < 6; i++) expect((await run('python', 'print(6 * 7)', { timeout_ms: 5_000 })).stdout).toBe('42\n');
      });

      it('a zygote killed during a run ends that run at once, and later runs still work', async () => {
        const pending = app.post('/api/v1/execute', { language: 'python', code: 'import time\ntime.sleep(30)', timeout_ms: 20_000 }, { token: admin });
        await sleep(1_500);
        const started = Date.now();
        for (const zygote of zygotes()) process.kill(zygote.pid, 'SIGKILL');
        const response = await pending;
        expect(response.status).toBe(200);
        expect(response.body.status).toBe('internal_error');
        expect(Date.now() - started).toBeLessThan(5_000);
        for (let i = 0; i < 6; i++) expect((await run('python', 'print(6 * 7)')).stdout).toBe('42\n');
        // New zygotes took the dead ones' places.
        const deadline = Date.now() + 5_000;
        while (zygotes().length === 0 && Date.now() < deadline) await sleep(100);
        expect(zygotes().length).toBeGreaterThan(0);
      });
    });
  }

  describe('escaped background processes', () => {
    const pythonEscapes = (mark: string, tail: string) => `
import os, subprocess, time
subprocess.Popen(['setsid', 'sleep', '${mark}'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.Popen('nohup sleep ${mark} >/dev/null 2>&1 &', shell=True).wait()
pid = os.fork()
if pid == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp('sleep', ['sleep', '${mark}'])
    os._exit(0)
os.waitpid(pid, 0)
time.sleep(0.5)
sleepers = []
for p in os.listdir('/proc'):
    if p.isdigit():
        try:
            with open('/proc/%s/cmdline' % p, 'rb') as f:
                if f.read().split(b'\\0')[:2] == [b'sleep', b'${mark}']:
                    sleepers.append(int(p))
        except OSError:
            pass
print(len(sleepers), sorted(sleepers), flush=True)
${tail}
`;

    it('python: setsid, nohup & and double-forked sleepers are all gone from the host after the run', async () => {
      const mark = `1000.${Math.floor(Math.random() * 1e6)}`;
      const result = await run('python', pythonEscapes(mark, ''));
      expect(result.status).toBe('success');
      expect(result.stdout).toMatch(/^3 \[/);
      expect(result.requestMs).toBeLessThan(8_000);
      expect(await untilGone(isSleeper(mark))).toEqual([]);
    });

    it('python: the sleepers of a program that times out are gone too', async () => {
      const mark = `1000.${Math.floor(Math.random() * 1e6)}`;
      const result = await run('python', pythonEscapes(mark, 'while True:\n    pass'), { timeout_ms: 2_500 });
      expect(result.status).toBe('timeout');
      expect(result.stdout).toMatch(/^3 \[/);
      expect(await untilGone(isSleeper(mark))).toEqual([]);
    });

    it('javascript: detached and unref()ed children are gone from the host after the run', async () => {
      const mark = `1000.${Math.floor(Math.random() * 1e6)}`;
      const code = `
const { spawn, execSync } = require('child_process');
spawn('sleep', ['${mark}'], { detached: true, stdio: 'ignore' }).unref();
execSync('setsid sleep ${mark} >/dev/null 2>&1 & nohup sleep ${mark} >/dev/null 2>&1 &');
setTimeout(() => console.log('started'), 300);
`;
      const result = await run('javascript', code);
      expect([result.status, result.stdout]).toEqual(['success', 'started\n']);
      expect(result.requestMs).toBeLessThan(8_000);
      expect(await untilGone(isSleeper(mark))).toEqual([]);
    });
  });

  describe('input and output', () => {
    const stdin = 'first line\nsecond line\n\nfourth: ünïcödé 🎉 日本語\n';

    it.each([
      ['python', 'import sys\nlines = sys.stdin.read().split("\\n")\nprint(len(lines))\nfor line in reversed(lines):\n    print(repr(line)[1:-1] if False else line)'],
      ['javascript', 'const lines = require("fs").readFileSync(0, "utf8").split("\\n");\nconsole.log(lines.length);\nfor (const line of lines.reverse()) console.log(line);'],
    ] as Array<[Language, string]>)('%s: multi-line stdin arrives intact', async (language, code) => {
      const result = await run(language, code, { stdin });
      const lines = stdin.split('\n');
      expect([result.status, result.stdout]).toEqual(['success', `${lines.length}\n${[...lines].reverse().join('\n')}\n`]);
    });

    it.each([
      ['python', "print('héllo wörld 🌍🚀 日本語 中文 한국어 Ωμέγα')\nimport sys\nprint('err ✓', file=sys.stderr)"],
      ['javascript', "console.log('héllo wörld 🌍🚀 日本語 中文 한국어 Ωμέγα');\nconsole.error('err ✓');"],
    ] as Array<[Language, string]>)('%s: unicode (emoji, CJK) round-trips in code, stdout and stderr', async (language, code) => {
      const result = await run(language, code);
      expect([result.status, result.stdout, result.stderr]).toEqual(['success', 'héllo wörld 🌍🚀 日本語 中文 한국어 Ωμέγα\n', 'err ✓\n']);
    });

    it.each([
      ['python', 'import sys\nsys.stdout.buffer.write(bytes(range(256)))'],
      ['javascript', 'process.stdout.write(Buffer.from(Array.from({ length: 256 }, (_, i) => i)));'],
    ] as Array<[Language, string]>)('%s: binary output (bytes 0-255) is answered, NUL as U+FFFD', async (language, code) => {
      const result = await run(language, code);
      expect(result.status).toBe('success');
      expect(result.stdout).not.toContain('\0');
      expect(result.stdout.startsWith('\uFFFD')).toBe(true);
      expect(result.stdout.slice(1, 128)).toBe(Array.from({ length: 127 }, (_, i) => String.fromCharCode(i + 1)).join(''));
      // 128-255 are not UTF-8 on their own: each becomes U+FFFD.
      expect(result.stdout.slice(128)).toBe('\uFFFD'.repeat(128));
    });

    it.each([
      ['python', 'import sys\nsys.exit(0)', 'success', 0],
      ['python', 'import sys\nsys.exit(1)', 'error', 1],
      ['python', 'import sys\nsys.exit(42)', 'error', 42],
      ['python', 'raise RuntimeError("boom")', 'error', 1],
      ['python', 'import os, signal\nos.kill(os.getpid(), signal.SIGKILL)', 'error', null],
      ['python', 'import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)', 'error', null],
      ['javascript', 'process.exit(0);', 'success', 0],
      ['javascript', 'process.exit(1);', 'error', 1],
      ['javascript', 'process.exit(42);', 'error', 42],
      ['javascript', 'throw new Error("boom");', 'error', 1],
      ['javascript', "process.kill(process.pid, 'SIGKILL');", 'error', null],
    ] as Array<[Language, string, string, number | null]>)('%s exit: %j → %s %s', async (language, code, status, exitCode) => {
      const result = await run(language, code);
      expect(result.status).toBe(status);
      expect(result.exit_code).toBe(exitCode);
    });
  });

  it('twelve parallel runs all succeed, each with its own output', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        index % 2 === 0
          ? run('python', `import time\ntime.sleep(0.2)\nprint('run ${index}')`, { timeout_ms: 30_000 })
          : run('javascript', `setTimeout(() => console.log('run ${index}'), 200);`, { timeout_ms: 30_000 }),
      ),
    );
    expect(results.map((result) => [result.status, result.stdout])).toEqual(Array.from({ length: 12 }, (_, index) => ['success', `run ${index}\n`]));
  });

  it('a registered user runs under the plan limits, isolated the same way', async () => {
    const user = await app.registerUser();
    const result = await execute({ language: 'python', code: 'import os\nprint(os.getuid(), sorted(os.listdir("/")))', timeout_ms: 2_000 }, user.token);
    expect(result.status).toBe('success');
    expect(result.stdout).toMatch(/^65534 /);
    expect(result.stdout).not.toContain('root');
    expect(result.stdout).not.toContain('home');
    // The plan's own memory limit applies without asking for one.
    const bomb = await execute({ language: 'python', code: 'x = bytearray(4 * 1024 * 1024 * 1024)', timeout_ms: 2_000 }, user.token);
    expect(bomb.status).toBe('memory_limit');
  });
});

/**
 * Zygote sandboxes on a machine without a writable memory cgroup: the relay
 * watches each run's tree of processes (see runtime/relay.py).
 */
describe('Sandbox memory limits: zygote sandboxes, memory without cgroups', () => {
  let app: TestApp;
  let admin: string;

  beforeAll(async () => {
    app = await TestApp.start({ JWT_SECRET, ENCRYPTION_KEY, SANDBOX_UID_BASE: String(UID_BASE + UID_RANGE), SANDBOX_MEMORY_CGROUP: 'false' });
    admin = await app.adminToken();
    const health = await app.get('/api/v1/health');
    expect(JSON.stringify(health.body)).toContain('rlimit+watch');
  });
  afterAll(async () => {
    await app?.stop();
  });

  describeMemoryLimits(async (language, code, extra = {}) => {
    const started = Date.now();
    const response = await app.post('/api/v1/execute', { language, code, timeout_ms: 10_000, ...extra }, { token: admin });
    if (response.status !== 200) throw new Error(`execute failed: ${response.status} ${JSON.stringify(response.body)}`);
    return { ...response.body, requestMs: Date.now() - started };
  });
});
