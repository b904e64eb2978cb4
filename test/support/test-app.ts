import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, QueryResult, QueryResultRow } from 'pg';
import { RunningApp, startApp } from '../../src/app.factory';
import { AppLogger } from '../../src/common/logging/app-logger';
import { createDatabaseFromTemplate, dropDatabase, urlFor } from './database';

export const ADMIN = { username: 'admin', password: 'admin-password-123' };

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  token?: string;
  apiKey?: string;
  body?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

/**
 * The real app (production pipes, filters and guards) on its own database,
 * cloned from the migrated template, listening on a random port.
 */
export class TestApp {
  /** A connection to the app's own database, opened by the first query(). */
  private db?: Promise<Client>;

  private constructor(
    readonly running: RunningApp,
    readonly databaseUrl: string,
    private readonly databaseName: string,
    readonly dataDir: string,
  ) {}

  /** Runs SQL on the app's database (to check what a request stored), on a connection of the test's own. */
  async query<R extends QueryResultRow = any>(text: string, params?: unknown[]): Promise<QueryResult<R>> {
    this.db ??= (async () => {
      const client = new Client({ connectionString: this.databaseUrl });
      await client.connect();
      return client;
    })();
    return (await this.db).query<R>(text, params);
  }

  static async start(env: Record<string, string> = {}, options: { databaseName?: string } = {}): Promise<TestApp> {
    const server = process.env.TEST_DATABASE_SERVER!;
    const databaseName = options.databaseName ?? (await createDatabaseFromTemplate(server, process.env.TEST_DATABASE_TEMPLATE!));
    const databaseUrl = urlFor(server, databaseName);
    const dataDir = mkdtempSync(join(dataDirParent(), 'coderunner-test-'));
    const running = await startApp(
      {
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        DATABASE_URL: databaseUrl,
        DATA_DIR: dataDir,
        JWT_SECRET: 'test-jwt-secret-test-jwt-secret-0123456789',
        ENCRYPTION_KEY: 'test-encryption-key',
        ADMIN_USERNAME: ADMIN.username,
        ADMIN_PASSWORD: ADMIN.password,
        ADMIN_EMAIL: 'admin@example.test',
        BCRYPT_ROUNDS: '4',
        LOG_LEVEL: 'silent',
        RATE_LIMIT_ENABLED: 'false',
        SCHEDULER_ENABLED: 'false',
        AUDIT_FLUSH_INTERVAL_MS: '50',
        ...env,
      },
      new AppLogger('silent'),
    );
    return new TestApp(running, databaseUrl, databaseName, dataDir);
  }

  get url(): string {
    return this.running.url;
  }

  /** Stops the app; the database is dropped unless another app shares it. */
  async stop(options: { keepDatabase?: boolean; keepDataDir?: boolean } = {}): Promise<void> {
    await (await this.db)?.end();
    await this.running.stop();
    if (!options.keepDatabase) await dropDatabase(process.env.TEST_DATABASE_SERVER!, this.databaseName);
    if (!options.keepDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  get databaseNameForSharing(): string {
    return this.databaseName;
  }

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.apiKey) headers['x-api-key'] = options.apiKey;
    let body: string | undefined;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    } else if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    // Paths are relative to /api/v1 unless they name a root path themselves.
    const absolute = path === '/' || path === '/metrics' || ['/api/v1/', '/v1/', '/docs', '/openapi'].some((prefix) => path.startsWith(prefix));
    const response = await fetch(`${this.url}${absolute ? '' : '/api/v1'}${path}`, {
      method,
      headers,
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed as T };
  }

  get = <T = any>(path: string, options?: RequestOptions) => this.request<T>('GET', path, options);
  post = <T = any>(path: string, body?: unknown, options?: RequestOptions) => this.request<T>('POST', path, { ...options, body });
  put = <T = any>(path: string, body?: unknown, options?: RequestOptions) => this.request<T>('PUT', path, { ...options, body });
  patch = <T = any>(path: string, body?: unknown, options?: RequestOptions) => this.request<T>('PATCH', path, { ...options, body });
  delete = <T = any>(path: string, options?: RequestOptions) => this.request<T>('DELETE', path, options);

  /** Registers a fresh user and returns its id, tokens and password. */
  async registerUser(overrides: { username?: string; email?: string; password?: string } = {}) {
    const n = Math.random().toString(36).slice(2, 10);
    const input = {
      username: overrides.username ?? `user_${n}`,
      email: overrides.email ?? `user_${n}@example.test`,
      password: overrides.password ?? 'password-123',
    };
    const response = await this.post('/auth/register', input);
    if (response.status !== 201) throw new Error(`register failed: ${response.status} ${JSON.stringify(response.body)}`);
    return {
      ...input,
      id: response.body.user.id as string,
      token: response.body.tokens.access as string,
      refresh: response.body.tokens.refresh as string,
    };
  }

  async adminToken(): Promise<string> {
    const response = await this.post('/auth/login', ADMIN);
    if (response.status !== 200) throw new Error(`admin login failed: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body.tokens.access as string;
  }
}

export { urlFor };

/**
 * Where test DATA_DIRs go: sandboxes run as their own uids and mount Python
 * environments from DATA_DIR, so every directory above it must let others
 * pass. /var/tmp is world-writable on Debian; some machines' /tmp is 0700.
 */
function dataDirParent(): string {
  try {
    if ((statSync('/var/tmp').mode & 0o001) !== 0) return '/var/tmp';
  } catch {
    // No /var/tmp: fall back.
  }
  return tmpdir();
}
