import { rmSync } from 'node:fs';
import type { EmbeddedPostgres } from '../../src/database/embedded-postgres';
import { dropDatabase } from './database';

export default async function globalTeardown(): Promise<void> {
  const server = process.env.TEST_DATABASE_SERVER;
  const template = process.env.TEST_DATABASE_TEMPLATE;
  if (server && template) await dropDatabase(server, template);
  await (globalThis as { __embeddedPostgres?: EmbeddedPostgres }).__embeddedPostgres?.stop();
  if (process.env.TEST_EMBEDDED_DIR) rmSync(process.env.TEST_EMBEDDED_DIR, { recursive: true, force: true });
}
