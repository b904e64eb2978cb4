import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source';

/** Any fixed number; every replica takes the same lock. */
const MIGRATION_LOCK = 7_346_112;

/**
 * Runs pending migrations while holding an advisory lock, so replicas starting
 * together migrate one after another instead of racing.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = new DataSource({ ...dataSourceOptions(url, 2), entities: [] });
  await dataSource.initialize();
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
    await dataSource.destroy();
  }
}
