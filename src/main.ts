import './common/process/gc-tuning';
import 'reflect-metadata';
import { QueryBus } from '@nestjs/cqrs';
import { startApp, RunningApp } from './app.factory';
import { ConfigError } from './config/env';
import { succeeds } from './common/process/succeeds';
import { GetSandboxStatusQuery } from './modules/execution/queries/get-sandbox-status.query';

/**
 * The Debian packages code execution needs that this machine lacks, each with
 * what is off without it. The service starts anyway (runs answer 503). The
 * sandbox fleet found out about bubblewrap when it started.
 */
async function missingSystemPackages({ app, config }: RunningApp): Promise<{ name: string; without: string }[]> {
  const [sandbox, venv] = await Promise.all([
    app.get(QueryBus).execute(new GetSandboxStatusQuery()),
    succeeds(config.execution.pythonBinary, ['-c', 'import ensurepip, venv']),
  ]);
  return [
    ...(sandbox.missingPackage === 'bubblewrap' ? [{ name: 'bubblewrap', without: 'code runs answer 503' }] : []),
    ...(venv ? [] : [{ name: 'python3-venv', without: 'Python environments cannot be created' }]),
  ];
}

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
  const { logger, address, url, stop } = running;

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

  const missing = await missingSystemPackages(running);
  if (missing.length) {
    logger.warn(
      `Missing system packages: ${missing.map((p) => `${p.name} (${p.without})`).join(', ')}. Install with: apt-get install ${missing.map((p) => p.name).join(' ')}`,
      'Bootstrap',
    );
  }
  logger.log(`CodeRunner listening on ${address}; API ${url}/api/v1, Swagger UI ${url}/docs`, 'Bootstrap');
}

void main();
