import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { freePort } from '../../src/common/net/free-port';

/**
 * The compiled app (`node dist/src/main.js`) as `npm start` runs it, in a child
 * process with exactly the environment given: for the start-up tests.
 */

const READY_TIMEOUT_MS = 120_000;
const EXIT_TIMEOUT_MS = 30_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `pid args` lines of processes whose command line mentions `path`. */
export function processesMentioning(path: string): string[] {
  return execFileSync('ps', ['-eo', 'pid,args'])
    .toString()
    .split('\n')
    .filter((line) => line.includes(path) && !line.includes('ps -eo'));
}

/** Stops (SIGQUIT) what a killed run left behind on `path`: its postgres runs in its own process group. */
export async function stopProcessesMentioning(path: string): Promise<void> {
  for (const line of processesMentioning(path)) {
    const pid = Number(line.trim().split(/\s+/)[0]);
    if (pid && isAlive(pid)) process.kill(pid, 'SIGQUIT');
  }
  await sleep(500);
}

/** Builds as `npm start` does (`npm run build`), in `root`. */
export function build(root: string): void {
  try {
    execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    const e = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`build failed:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
  }
}

/** Every child still running; `killAll` ends them in afterAll. */
const running = new Set<ChildProcess>();

export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** One run of `node <main>`, output captured. */
export class AppProcess {
  output = '';
  exitCode: number | null | undefined;
  signal: NodeJS.Signals | null = null;
  readonly exited: Promise<number | null>;

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
  ) {
    const append = (chunk: Buffer) => {
      this.output += chunk.toString();
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    this.exited = new Promise((r) =>
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.signal = signal;
        r(code);
      }),
    );
  }

  /** Starts `main` in `cwd` with PATH, HOME, PORT, HOST=127.0.0.1 and `env`, nothing else; resolves once healthy. */
  static async start(main: string, cwd: string, env: Record<string, string>): Promise<AppProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, [main], {
      cwd,
      env: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: process.env.HOME ?? '/tmp',
        PORT: String(port),
        HOST: '127.0.0.1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    const app = new AppProcess(child, `http://127.0.0.1:${port}`);
    void app.exited.then(() => running.delete(child));
    await app.waitHealthy();
    return app;
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exitCode !== undefined) {
        throw new Error(`app exited with ${this.exitCode} (${this.signal}) before it was healthy:\n${this.output}`);
      }
      try {
        const response = await fetch(`${this.url}/api/v1/health`);
        await response.arrayBuffer();
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`app not healthy within ${READY_TIMEOUT_MS} ms:\n${this.output}`);
  }

  /** Resolves once the output contains `text` (a log line written after the server answers). */
  async waitForOutput(text: string): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.output.includes(text)) {
      if (Date.now() > deadline) throw new Error(`"${text}" not in the output within ${READY_TIMEOUT_MS} ms:\n${this.output}`);
      await sleep(100);
    }
  }

  /** SIGTERM; resolves with the exit code, or throws after 30 s. */
  async terminate(): Promise<number | null> {
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`app did not exit within ${EXIT_TIMEOUT_MS} ms of SIGTERM:\n${this.output}`)), EXIT_TIMEOUT_MS);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async request(method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await fetch(`${this.url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: response.status, body: parsed };
  }
}
