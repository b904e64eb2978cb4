import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAppConfig } from './app-config';
import { ConfigError } from './env';
import { resolveSecrets } from './secrets';

describe('readAppConfig', () => {
  it('has the documented defaults (README, Configuration) on an empty environment', () => {
    const config = readAppConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.database.url).toBeUndefined();
    expect(config.auth.adminUsername).toBe('admin');
    expect(config.auth.bcryptRounds).toBe(12);
    expect(config.auth.accessTokenTtlSeconds).toBe(1800);
    expect(config.auth.refreshTokenTtlSeconds).toBe(7 * 24 * 3600);
    expect(config.rateLimit).toEqual({ enabled: true, anonymousPerMinute: 10, anonymousPerHour: 100 });
    expect(config.retention).toEqual({ auditDays: 365, logsDays: 30, metricsDays: 30, jobRunsDays: 90 });
    expect(config.trustProxy).toBe(false);
  });

  it('logs human-readable lines to a terminal and JSON elsewhere, unless LOG_FORMAT says', () => {
    expect(readAppConfig({}).logFormat).toBe(process.stdout.isTTY ? 'pretty' : 'json');
    expect(readAppConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(readAppConfig({ LOG_FORMAT: 'json' }).logFormat).toBe('json');
  });

  it('reports every problem at once', () => {
    let error: unknown;
    try {
      readAppConfig({ PORT: 'abc', RATE_LIMIT_ENABLED: 'maybe', DATABASE_URL: 'mysql://x', LOG_LEVEL: 'loud', LOG_FORMAT: 'xml' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['PORT', 'RATE_LIMIT_ENABLED', 'DATABASE_URL', 'LOG_LEVEL', 'LOG_FORMAT']) expect(problems).toContain(name);
  });

  it('refuses production without secrets and a database', () => {
    expect(() => readAppConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET[\s\S]*ENCRYPTION_KEY[\s\S]*DATABASE_URL/);
    expect(() =>
      readAppConfig({ NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), ENCRYPTION_KEY: 'k', DATABASE_URL: 'postgres://u@h/db' }),
    ).not.toThrow();
  });

  it('rejects a short JWT_SECRET or ADMIN_PASSWORD', () => {
    expect(() => readAppConfig({ JWT_SECRET: 'short' })).toThrow(/JWT_SECRET/);
    expect(() => readAppConfig({ ADMIN_PASSWORD: 'short' })).toThrow(/ADMIN_PASSWORD/);
  });
});

describe('resolveSecrets', () => {
  it('generates missing secrets once, keeps them in DATA_DIR with mode 0600, and reuses them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const first = resolveSecrets(dir, {});
    const file = join(dir, 'secrets.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(resolveSecrets(dir, {})).toEqual(first);
    expect(JSON.parse(readFileSync(file, 'utf8')).jwtSecret).toBe(first.jwtSecret);
  });

  it('prefers given secrets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const given = resolveSecrets(dir, { jwtSecret: 'j'.repeat(40), encryptionKey: 'e' });
    expect(given).toEqual({ jwtSecret: 'j'.repeat(40), encryptionKey: 'e' });
  });
});
