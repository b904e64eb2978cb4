import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { SnakeNamingStrategy } from 'typeorm-naming-strategies';
import { MIGRATIONS } from '../../migrations';

/**
 * The one description of the database connection, used by the app (through
 * TypeOrmModule) and by the migration CLI. `synchronize` is never on: every
 * schema change is a migration.
 */
export function dataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    namingStrategy: new SnakeNamingStrategy(),
    synchronize: false,
    migrationsRun: false,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    extra: { max: poolSize, application_name: 'coderunner' },
  };
}

/** Entity files, for the CLI (the app registers entities through its modules). */
export const ENTITY_GLOB = join(__dirname, '..', 'modules', '**', 'entities', '*.entity.{js,ts}');
