import { randomBytes } from 'node:crypto';
import { adminQuery, urlFor } from '../../src/database/server-admin';

export { adminQuery, urlFor };

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** Tests only ever create or drop databases whose name says they are for tests. */
export function assertTestDatabase(name: string): void {
  if (!/test/.test(name) || !/^[a-z0-9_]+$/.test(name)) throw new Error(`Refusing to touch database "${name}": not a test database`);
}

export async function createDatabaseFromTemplate(serverUrl: string, template: string): Promise<string> {
  const name = uniqueName('coderunner_test');
  assertTestDatabase(name);
  assertTestDatabase(template);
  await adminQuery(serverUrl, `CREATE DATABASE ${name} TEMPLATE ${template}`);
  return name;
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  assertTestDatabase(name);
  await adminQuery(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
