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
  const logger = new AppLogger('error');
  const app = await buildApp(
    { config, logger, secrets: { jwtSecret: 'preview'.repeat(8), encryptionKey: 'preview' }, databaseUrl: 'postgres://preview@127.0.0.1:1/preview' },
    { preview: true },
  );
  const document = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
  await app.close();
  writeOrCheck('openapi.json', document, 'openapi');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
