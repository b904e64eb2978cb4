import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { runMigrations } from '../../src/database/migrate';
import { canConnect } from '../../src/database/server-admin';
import { adminQuery, assertTestDatabase, uniqueName, urlFor } from './database';

const LOCAL_SERVER = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Finds a PostgreSQL server (DATABASE_URL, else 127.0.0.1:5432, else an embedded
 * one) and builds a migrated template database; each test file clones it.
 */
export default async function globalSetup(): Promise<void> {
  let serverUrl = process.env.DATABASE_URL;
  if (!serverUrl && (await canConnect(LOCAL_SERVER))) serverUrl = LOCAL_SERVER;
  if (!serverUrl) {
    // Its own directory per run: two test runs at once must not share (and stop) one server.
    const dir = mkdtempSync(join(tmpdir(), 'coderunner-test-postgres-'));
    // As root, the server runs as the postgres user: mkdtemp's 0700 would keep it out (and it would
    // move the cluster to /var/lib/coderunner, which the teardown does not remove).
    chmodSync(dir, 0o755);
    process.env.TEST_EMBEDDED_DIR = dir;
    const embedded = new EmbeddedPostgres(dir, { log: () => undefined, warn: (m) => process.stderr.write(`${m}\n`) });
    serverUrl = await embedded.start();
    (globalThis as { __embeddedPostgres?: EmbeddedPostgres }).__embeddedPostgres = embedded;
  }
  const template = uniqueName('coderunner_test_template');
  assertTestDatabase(template);
  await adminQuery(serverUrl, `CREATE DATABASE ${template}`);
  await runMigrations(urlFor(serverUrl, template));

  process.env.TEST_DATABASE_SERVER = serverUrl;
  process.env.TEST_DATABASE_TEMPLATE = template;
}
