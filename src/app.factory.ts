import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { CommandBus } from '@nestjs/cqrs';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule, AppRuntime } from './app.module';
import { AppConfig, readAppConfig } from './config/app-config';
import type { Env } from './config/env';
import { resolveSecrets } from './config/secrets';
import { clientErrorHandler } from './common/errors/client-error';
import { sendError } from './common/errors/error.filter';
import { configureHttp } from './common/http/http-setup';
import { requestIdFor } from './common/http/request-id';
import { AppLogger } from './common/logging/app-logger';
import { EmbeddedPostgres } from './database/embedded-postgres';
import { runMigrations } from './database/migrate';
import { EnsureFirstAdminCommand } from './modules/identity/commands/ensure-first-admin.command';

/** Builds the Nest application on Fastify with the production HTTP setup. */
export async function buildApp(runtime: AppRuntime, options: { preview?: boolean } = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: runtime.config.bodyLimitBytes,
    trustProxy: runtime.config.trustProxy,
    genReqId: requestIdFor,
    requestIdHeader: false,
    logger: false,
    // Errors Fastify raises before routing (a malformed URL) get the same envelope as the rest.
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => sendError(error, request, reply, runtime.logger),
    // So do those Node's HTTP parser raises before there is a request (431 and the like).
    clientErrorHandler: clientErrorHandler(runtime.logger),
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(runtime), adapter, {
    logger: runtime.logger,
    preview: options.preview,
    abortOnError: false,
    // configureHttp registers the body parsers (JSON, and forms where a route takes them).
    bodyParser: false,
  });
  await configureHttp(app, runtime.config, runtime.logger);
  return app;
}

export interface RunningApp {
  app: NestFastifyApplication;
  config: AppConfig;
  logger: AppLogger;
  /** The address and port the server is bound to, e.g. 0.0.0.0:3000 */
  address: string;
  /** A base URL to reach it on from this machine, e.g. http://localhost:3000 */
  url: string;
  stop(): Promise<void>;
}

/** `host:port`, with brackets for IPv6. */
function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Everything `npm start` does: read and validate config, find or start
 * PostgreSQL, migrate, build the app, create the first admin, listen.
 */
export async function startApp(env: Env, logger?: AppLogger): Promise<RunningApp> {
  const config = readAppConfig(env);
  logger ??= new AppLogger(config.logLevel, config.logFormat);
  mkdirSync(config.dataDir, { recursive: true });
  const secrets = resolveSecrets(config.dataDir, config.auth);

  const embedded = config.database.url ? undefined : new EmbeddedPostgres(config.dataDir, { log: (m) => logger.log(m, 'Database'), warn: (m) => logger.warn(m, 'Database') });
  try {
    const databaseUrl = config.database.url ?? (await embedded!.start());
    if (config.database.migrate) {
      const applied = await runMigrations(databaseUrl);
      if (applied.length) logger.log(`Applied migrations: ${applied.join(', ')}`, 'Database');
    }
    const app = await buildApp({ config, secrets, logger, databaseUrl });
    await app.init();
    await app.get(CommandBus).execute(new EnsureFirstAdminCommand());
    await app.listen({ port: config.port, host: config.host });
    const bound = app.getHttpServer().address() as AddressInfo;
    // A wildcard address is not one to open: this machine reaches it as localhost.
    const wildcard = bound.address === '0.0.0.0' || bound.address === '::';
    return {
      app,
      config,
      logger,
      address: hostPort(bound.address, bound.port),
      url: `http://${hostPort(wildcard ? 'localhost' : bound.address, bound.port)}`,
      async stop() {
        // Finish in-flight requests first, so their audit entries and key usage
        // are buffered before the flush in beforeApplicationShutdown.
        await app.getHttpAdapter().close();
        await app.close();
        await embedded?.stop();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
