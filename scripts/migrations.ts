import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { readAppConfig } from '../src/config/app-config';
import { dataSourceOptions, ENTITY_GLOB } from '../src/database/data-source';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { runMigrations } from '../src/database/migrate';

/**
 * `npm run migration:run | migration:revert`, on the same data source as the
 * app: DATABASE_URL, or the embedded server in DATA_DIR. Migrations are written
 * by hand (README, Scripts): there is deliberately no `generate`.
 */
async function main(): Promise<void> {
  const [command] = process.argv.slice(2);
  const config = readAppConfig(process.env);
  const embedded = config.database.url ? undefined : new EmbeddedPostgres(config.dataDir, { log: console.log, warn: console.warn });
  const url = config.database.url ?? (await embedded!.start());
  try {
    if (command === 'run') {
      const applied = await runMigrations(url);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
    } else if (command === 'revert') {
      const dataSource = await new DataSource({ ...dataSourceOptions(url, 2), entities: [ENTITY_GLOB] }).initialize();
      await dataSource.undoLastMigration({ transaction: 'each' });
      await dataSource.destroy();
      console.log('Reverted the last migration.');
    } else {
      throw new Error('Usage: migrations.ts run | revert');
    }
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
