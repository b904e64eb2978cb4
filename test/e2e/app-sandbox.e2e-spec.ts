import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSandboxLayout } from '../../src/common/sandbox/sandbox-layout';
import { AppSandbox, AppSandboxOptions, MAX_LINE_BYTES, OutputLine } from '../../src/modules/deployments/runtime/app-sandbox';

/**
 * A deployed app's sandbox (the ground the deployments context is built on):
 * real apps in bubblewrap with a network namespace of their own, reached
 * through the Unix socket the supervisor relays to their port; nothing of the
 * host reachable from inside; output split into lines; exits seen.
 */

jest.setTimeout(60_000);

const layout = readSandboxLayout([process.execPath, '/usr/bin/python3']);

/** GET through the app's socket: status and body. */
function get(socketPath: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, headers: { host: 'localhost' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('AppSandbox', () => {
  let root: string;
  const running: AppSandbox[] = [];
  let hostServer: Server;
  let hostPort: number;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'coderunner-app-sandbox-'));
    // A service on the host's loopback that no app may reach (as PostgreSQL or the API would be).
    hostServer = createServer((socket) => socket.end('host secret\n'));
    await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
    hostPort = (hostServer.address() as AddressInfo).port;
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((app) => app.stop()));
  });
  afterAll(async () => {
    await new Promise((resolve) => hostServer.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  function start(name: string, files: Record<string, string>, command: string, extra: Partial<AppSandboxOptions> = {}): { app: AppSandbox; lines: OutputLine[] } {
    const appDir = mkdtempSync(join(root, `${name}-app-`));
    for (const [file, content] of Object.entries(files)) writeFileSync(join(appDir, file), content);
    const lines: OutputLine[] = [];
    const app = AppSandbox.start({
      bwrapBinary: 'bwrap', layout, tmpfsBytes: 16 * 1024 * 1024, appDir, runDir: mkdtempSync(join(root, `${name}-run-`)), port: 8080, command,
      onLine: (line) => lines.push(line), ...extra,
    });
    running.push(app);
    return { app, lines };
  }

  it('runs a Node http server on PORT, reached through its socket', async () => {
    const { app, lines } = start('node', {
      'server.js': `require('http').createServer((req, res) => res.end('hello from ' + req.url + ' on ' + process.env.PORT)).listen(process.env.PORT, () => console.log('listening'));`,
    }, 'node server.js', { env: { GREETING: 'hi' } });
    expect(await app.waitHealthy('/', 10_000)).toBe(200);
    expect(await get(app.socketPath, '/x?y=1')).toEqual({ status: 200, body: 'hello from /x?y=1 on 8080' });
    expect(lines).toContainEqual({ stream: 'stdout', text: 'listening', truncated: false });
  });

  it('runs a Python http.server app', async () => {
    const { app } = start('python', { 'index.html': '<p>python here</p>' }, 'python3 -m http.server "$PORT" --bind 127.0.0.1');
    expect(await app.waitHealthy('/', 10_000)).toBe(200);
    expect((await get(app.socketPath, '/index.html')).body).toBe('<p>python here</p>');
  });

  it('reaches nothing of the host: not a loopback service, not the outside', async () => {
    const script = `
      const net = require('net');
      const tryConnect = (host, port) => new Promise((resolve) => {
        const s = net.connect({ host, port, timeout: 2000 }, () => { s.destroy(); resolve('connected'); });
        s.on('error', (e) => resolve(e.code));
        s.on('timeout', () => { s.destroy(); resolve('timeout'); });
      });
      (async () => {
        console.log('host-port ' + await tryConnect('127.0.0.1', ${hostPort}));
        console.log('postgres ' + await tryConnect('127.0.0.1', 5432));
        console.log('outside ' + await tryConnect('1.1.1.1', 80));
        require('http').createServer((req, res) => res.end('ok')).listen(process.env.PORT);
      })();`;
    const { app, lines } = start('probe', { 'probe.js': script }, 'node probe.js');
    expect(await app.waitHealthy('/', 15_000)).toBe(200);
    const said = Object.fromEntries(lines.map((line) => line.text.split(' ')));
    expect(said['host-port']).toBe('ECONNREFUSED');
    expect(said.postgres).toBe('ECONNREFUSED');
    expect(['ENETUNREACH', 'EHOSTUNREACH', 'timeout']).toContain(said.outside);
  });

  it('sees the app exit with its status, and health never comes from an app that does not listen', async () => {
    const { app } = start('exit', { 'exit.js': 'console.error("bad config"); process.exit(3);' }, 'node exit.js');
    expect(await app.waitHealthy('/', 5000)).toBeNull();
    expect((await app.exited).code).toBe(3);
  });

  it('splits output into lines and cuts one over 16 KB, flagged', async () => {
    const { app, lines } = start('flood', {
      'flood.js': `process.stdout.write('a'.repeat(${MAX_LINE_BYTES + 5000}) + '\\nshort\\n'); console.error('to stderr');`,
    }, 'node flood.js');
    await app.exited;
    expect(lines.find((line) => line.stream === 'stdout' && line.truncated)?.text).toHaveLength(MAX_LINE_BYTES);
    expect(lines).toContainEqual({ stream: 'stdout', text: 'short', truncated: false });
    expect(lines).toContainEqual({ stream: 'stderr', text: 'to stderr', truncated: false });
  });

  it('stops: the whole process tree goes, the socket answers no more', async () => {
    const { app } = start('stop', { 'server.js': `require('child_process').spawn('sleep', ['600']); require('http').createServer((q, s) => s.end('up')).listen(process.env.PORT);` }, 'node server.js');
    expect(await app.waitHealthy('/', 10_000)).toBe(200);
    const exit = await app.stop();
    expect(exit.signal).toBe('SIGKILL');
    await expect(get(app.socketPath)).rejects.toThrow();
  });
});
