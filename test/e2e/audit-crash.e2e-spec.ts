import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../src/common/net/free-port';
import { createDatabaseFromTemplate, dropDatabase, urlFor } from '../support/database';
import { ADMIN } from '../support/test-app';

/**
 * kill -9 under write load. With AUDIT_DURABILITY=sync (the default) every
 * write the server acknowledged has its audit entry in the table, because the
 * response waited for it; with `async`, the entries of the writes acknowledged
 * since the last flush are lost, which shows the test can tell the two apart.
 * The server is a real process (the TypeScript sources through
 * scripts/register-ts.cjs), killed with SIGKILL while 8 clients write snippets.
 */

jest.setTimeout(180_000);

const ROOT = resolve(__dirname, '..', '..');
/** The crash comes once this many writes were acknowledged (however slow the machine), or after LOAD_MAX_MS. */
const ACKNOWLEDGED_BEFORE_KILL = 300;
const LOAD_MAX_MS = 30_000;
const CLIENTS = 8;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Outcome {
  acknowledged: string[];
  audited: Set<string>;
  snippets: number;
}

/** Starts the app on its own database, writes under load, SIGKILLs it, and reads what survived. */
async function crashUnderLoad(durability: 'sync' | 'async'): Promise<Outcome> {
  const server = process.env.TEST_DATABASE_SERVER!;
  const database = await createDatabaseFromTemplate(server, process.env.TEST_DATABASE_TEMPLATE!);
  const dataDir = mkdtempSync(join(tmpdir(), 'coderunner-crash-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/api/v1`;
  let child: ChildProcess | undefined;
  let output = '';
  try {
    child = spawn(process.execPath, ['-r', './scripts/register-ts.cjs', 'src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        DATABASE_URL: urlFor(server, database),
        DATA_DIR: dataDir,
        JWT_SECRET: 'test-jwt-secret-test-jwt-secret-0123456789',
        ENCRYPTION_KEY: 'test-encryption-key',
        ADMIN_PASSWORD: ADMIN.password,
        BCRYPT_ROUNDS: '4',
        LOG_LEVEL: 'warn',
        RATE_LIMIT_ENABLED: 'false',
        SCHEDULER_ENABLED: 'false',
        AUDIT_DURABILITY: durability,
        AUDIT_FLUSH_INTERVAL_MS: '1000',
      },
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const token = await loginWhenReady(url, () => output);

    const acknowledged: string[] = [];
    let killed = false;
    let sequence = 0;
    const client = async (n: number) => {
      while (!killed) {
        const requestId = `crash-${durability}-${n}-${++sequence}`;
        try {
          const response = await fetch(`${url}/code-library`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'x-request-id': requestId },
            body: JSON.stringify({ title: requestId, code: 'print(1)' }),
          });
          await response.arrayBuffer();
          if (response.status === 201) acknowledged.push(requestId);
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    const loadEnds = Date.now() + LOAD_MAX_MS;
    while (acknowledged.length < ACKNOWLEDGED_BEFORE_KILL && Date.now() < loadEnds) await sleep(20);
    child.kill('SIGKILL');
    killed = true;
    await Promise.all(clients);
    await new Promise((r) => (child!.exitCode !== null || child!.signalCode !== null ? r(undefined) : child!.once('exit', r)));

    const db = new Client({ connectionString: urlFor(server, database) });
    await db.connect();
    try {
      const audited = await db.query("SELECT request_id FROM audit_logs WHERE action = 'code.create' AND request_id = ANY($1)", [acknowledged]);
      const snippets = await db.query('SELECT count(*)::int AS n FROM snippets WHERE title = ANY($1)', [acknowledged]);
      return { acknowledged, audited: new Set(audited.rows.map((r) => r.request_id as string)), snippets: snippets.rows[0].n };
    } finally {
      await db.end();
    }
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await dropDatabase(server, database);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function loginWhenReady(url: string, output: () => string): Promise<string> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
      const body = (await response.json()) as { tokens?: { access: string } };
      if (response.status === 200 && body.tokens) return body.tokens.access;
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`app did not start:\n${output()}`);
}

describe('Audit trail across kill -9', () => {
  it('sync (default): every acknowledged write has its audit entry after SIGKILL under load', async () => {
    const { acknowledged, audited, snippets } = await crashUnderLoad('sync');
    expect(acknowledged.length).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);
    expect(snippets).toBe(acknowledged.length);
    expect(acknowledged.filter((id) => !audited.has(id))).toEqual([]);
  });

  it('async: the same crash loses the entries of writes acknowledged since the last flush', async () => {
    const { acknowledged, audited, snippets } = await crashUnderLoad('async');
    expect(acknowledged.length).toBeGreaterThanOrEqual(ACKNOWLEDGED_BEFORE_KILL);
    expect(snippets).toBe(acknowledged.length);
    expect(audited.size).toBeLessThan(acknowledged.length);
  });
});
