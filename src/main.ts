import 'reflect-metadata';
import { startApp } from './app.factory';
import { ConfigError } from './config/env';

/**
 * Bootstrap only. On SIGINT/SIGTERM the server stops taking requests, finishes
 * those in flight, flushes buffers, then stops embedded PostgreSQL cleanly.
 */
async function main(): Promise<void> {
  let running;
  try {
    running = await startApp(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    process.stderr.write(`CodeRunner failed to start: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  }
  const { logger, url, stop } = running;
  logger.log(`CodeRunner listening on ${url} (Swagger UI: ${url}/docs)`, 'Bootstrap');

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal} received; shutting down`, 'Bootstrap');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    stop()
      .then(() => {
        logger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        process.stderr.write(`Error during shutdown: ${String(error)}\n`);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

void main();
