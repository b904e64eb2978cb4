import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { readAppConfig } from '../src/config/app-config';
import { dataSourceOptions, ENTITY_GLOB } from '../src/database/data-source';
import { EmbeddedPostgres } from '../src/database/embedded-postgres';
import { runMigrations } from '../src/database/migrate';

/**
 * `npm run migration:run | migration:revert | migration:generate <Name>`, on the
 * same data source as the app: DATABASE_URL, or the embedded server in DATA_DIR.
 */
async function main(): Promise<void> {
  const [command, name] = process.argv.slice(2);
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
    } else if (command === 'generate') {
      if (!name || !/^[A-Z][A-Za-z0-9]+$/.test(name)) throw new Error('Usage: npm run migration:generate -- <PascalCaseName>');
      const dataSource = await new DataSource({ ...dataSourceOptions(url, 2), entities: [ENTITY_GLOB] }).initialize();
      const sql = await dataSource.driver.createSchemaBuilder().log();
      await dataSource.destroy();
      if (sql.upQueries.length === 0) {
        console.log('The entities match the database: nothing to generate.');
        return;
      }
      const timestamp = Date.now();
      const quote = (q: string) => `    await db.query(${JSON.stringify(q)});`;
      const file = join(__dirname, '..', '..', 'migrations', `${timestamp}-${name}.ts`);
      writeFileSync(
        file,
        `import { MigrationInterface, QueryRunner } from 'typeorm';\n\nexport class ${name}${timestamp} implements MigrationInterface {\n  name = '${name}${timestamp}';\n\n  async up(db: QueryRunner): Promise<void> {\n${sql.upQueries.map((q) => quote(q.query)).join('\n')}\n  }\n\n  async down(db: QueryRunner): Promise<void> {\n${sql.downQueries.reverse().map((q) => quote(q.query)).join('\n')}\n  }\n}\n`,
      );
      console.log(`Wrote ${file}; review it and add it to migrations/index.ts.`);
    } else {
      throw new Error('Usage: migrations.ts run | revert | generate <Name>');
    }
  } finally {
    await embedded?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
