import 'reflect-metadata';
import { buildApp } from '../src/app.factory';
import { readAppConfig } from '../src/config/app-config';
import { buildOpenApiDocument } from '../src/common/http/swagger';
import { AppLogger } from '../src/common/logging/app-logger';
import { writeOrCheck } from './generated-file';

/**
 * Writes openapi.json at the repository root from the route and DTO metadata,
 * without a database (Nest preview mode instantiates no provider).
 * `--check` fails when the committed file differs, so CI catches a stale one.
 */
async function main(): Promise<void> {
  const config = readAppConfig({ LOG_LEVEL: 'error' });
  const logger = new DuplicateSchemaCatcher('error');
  const app = await buildApp(
    { config, logger, secrets: { jwtSecret: 'preview'.repeat(8), encryptionKey: 'preview' }, databaseUrl: 'postgres://preview@127.0.0.1:1/preview' },
    { preview: true },
  );
  const document = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  await app.close();
  // Two DTO classes of one name make one schema in the document: one of the operations would be documented with the other's shape.
  if (logger.duplicates.length) throw new Error(`Rename the DTO classes that share a name:\n${logger.duplicates.join('\n')}`);
  writeOrCheck('openapi.json', document, 'openapi');
}

/** Keeps @nestjs/swagger's "Duplicate DTO detected" warnings (logged, not thrown, by the library). */
class DuplicateSchemaCatcher extends AppLogger {
  readonly duplicates: string[] = [];

  override warn(message: unknown, context?: string): void {
    if (String(message).includes('Duplicate DTO')) this.duplicates.push(String(message));
    super.warn(message, context);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
