import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Query, QueryBus } from '@nestjs/cqrs';
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { pgPool } from '../../common/database/pg-pool';
import { AppLogger } from '../../common/logging/app-logger';
import { GetAuditWriterStatsQuery } from '../audit/queries/get-audit-writer-stats.query';
import { CountDeploymentsByStatusQuery } from '../deployments/queries/count-deployments-by-status.query';
import { GetExecutionLoadQuery } from '../execution/queries/get-execution-load.query';
import { GetRealtimeStatsQuery } from '../realtime/queries/get-realtime-stats.query';

/** The route label of a request no route matched (a 404 of the router): never the raw URL. */
export const UNMATCHED_ROUTE = 'unmatched';

/** Methods kept as they are in the `method` label; anything else is `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

let processMetrics: Registry | undefined;

/**
 * prom-client's default metrics (the process_* and nodejs_* families, under
 * their usual names, which dashboards look for). They describe the process, not
 * an app, and start an event-loop monitor and a GC observer that are never
 * stopped: collected once per process, in a registry of their own, and merged
 * into every app's answer.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}

/**
 * This app's Prometheus metrics (GET /metrics), in a registry of its own: two
 * apps in one process (tests, replicas) never share or double-register a metric
 * (only the process's own families, which are the same for both).
 *
 * Only the HTTP histogram is fed as things happen (a Fastify onResponse hook).
 * Everything else is read when Prometheus scrapes, by the metrics' collect()
 * callbacks, through the owning contexts' queries; one scrape asks each query
 * once.
 */
@Injectable()
export class MetricsRegistry implements OnModuleInit {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** The answers of the scrape under way, one per query class. */
  private scrape = new Map<unknown, Promise<unknown>>();

  constructor(
    private readonly queries: QueryBus,
    private readonly dataSource: DataSource,
    private readonly adapterHost: HttpAdapterHost,
    private readonly logger: AppLogger,
  ) {
    const registers = [this.registry];
    // Started with the first app, so the event-loop and GC figures cover the time before the first scrape.
    processRegistry();

    this.httpDuration = new Histogram({
      name: 'coderunner_http_request_duration_seconds',
      help: 'HTTP requests by method, route template and status code, and how long they took',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });

    // collect() runs with the metric as `this`; these reach the registry's own.
    const answer = <T>(query: Query<T>): Promise<T | undefined> => this.answer(query);
    const pool = () => pgPool(this.dataSource);
    new Counter({
      name: 'coderunner_executions_total',
      help: 'Runs this replica finished since it started, by language and final status',
      labelNames: ['language', 'status'],
      registers,
      async collect() {
        const load = await answer(new GetExecutionLoadQuery());
        this.reset();
        for (const { language, status, count } of load?.finished ?? []) this.inc({ language, status }, count);
      },
    });
    new Gauge({
      name: 'coderunner_execution_queue_depth',
      help: 'Runs waiting for a worker slot on this replica',
      registers,
      async collect() {
        const load = await answer(new GetExecutionLoadQuery());
        if (load) this.set(load.queued);
      },
    });
    new Gauge({
      name: 'coderunner_execution_running',
      help: 'Runs holding a worker slot on this replica',
      registers,
      async collect() {
        const load = await answer(new GetExecutionLoadQuery());
        if (load) this.set(load.running);
      },
    });
    new Gauge({
      name: 'coderunner_execution_warm_sandboxes',
      help: 'Sandboxes started ahead and ready for a run on this replica',
      registers,
      async collect() {
        const load = await answer(new GetExecutionLoadQuery());
        if (load?.warm_sandboxes != null) this.set(load.warm_sandboxes);
      },
    });

    new Gauge({
      name: 'coderunner_audit_writer_pending_entries',
      help: 'Audit entries queued on this replica and not yet committed (the writer\'s lag)',
      registers,
      async collect() {
        const stats = await answer(new GetAuditWriterStatsQuery());
        if (stats) this.set(stats.pending);
      },
    });
    new Counter({
      name: 'coderunner_audit_writer_dropped_entries_total',
      help: 'Audit entries dropped since start because the buffer was full (AUDIT_BUFFER_SIZE)',
      registers,
      async collect() {
        const stats = await answer(new GetAuditWriterStatsQuery());
        this.reset();
        if (stats) this.inc(stats.dropped);
      },
    });
    new Counter({
      name: 'coderunner_audit_writer_dead_lettered_entries_total',
      help: 'Audit entries PostgreSQL refused even alone, logged instead of stored, since start',
      registers,
      async collect() {
        const stats = await answer(new GetAuditWriterStatsQuery());
        this.reset();
        if (stats) this.inc(stats.dead_lettered);
      },
    });

    new Gauge({
      name: 'coderunner_db_pool_connections',
      help: 'Connections of this replica\'s PostgreSQL pool, by state (idle or in_use)',
      labelNames: ['state'],
      registers,
      collect() {
        const { idleCount, totalCount } = pool();
        this.set({ state: 'idle' }, idleCount);
        this.set({ state: 'in_use' }, totalCount - idleCount);
      },
    });
    new Gauge({
      name: 'coderunner_db_pool_waiting_clients',
      help: 'Queries of this replica waiting for a free PostgreSQL connection',
      registers,
      collect() {
        this.set(pool().waitingCount);
      },
    });
    new Gauge({
      name: 'coderunner_db_pool_max_connections',
      help: 'Connections this replica\'s PostgreSQL pool opens at most (DB_POOL_SIZE)',
      registers,
      collect() {
        this.set(pool().options.max ?? 0);
      },
    });

    new Gauge({
      name: 'coderunner_websocket_connections',
      help: 'WebSocket connections open on this replica',
      registers,
      async collect() {
        const stats = await answer(new GetRealtimeStatsQuery());
        if (stats) this.set(stats.connections);
      },
    });

    new Gauge({
      name: 'coderunner_deployments',
      help: 'Deployments of every user, by status',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts = await answer(new CountDeploymentsByStatusQuery());
        this.reset();
        for (const [status, count] of Object.entries(counts ?? {})) this.set({ status }, count);
      },
    });
  }

  /** Times every response the router answered, labelled by its route's template. */
  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.addHook('onResponse', (request, reply, done) => {
      const method = METHODS.has(request.method) ? request.method : 'other';
      const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
      this.httpDuration.observe({ method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
      done();
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus' text format, the gauges read now. */
  async metrics(): Promise<string> {
    this.scrape = new Map();
    return Registry.merge([this.registry, processRegistry()]).metrics();
  }

  /**
   * The query's answer for this scrape, asked once however many metrics read it;
   * undefined (the metric left out, a warning logged) when the query fails, so
   * one broken source does not take the rest down.
   */
  private answer<T>(query: Query<T>): Promise<T | undefined> {
    const scrape = this.scrape;
    let answer = scrape.get(query.constructor) as Promise<T | undefined> | undefined;
    if (!answer) {
      answer = this.queries.execute(query).catch((error: unknown) => {
        this.logger.warn(`metrics: ${query.constructor.name} failed: ${(error as Error).message ?? error}`, 'Metrics');
        return undefined;
      });
      scrape.set(query.constructor, answer);
    }
    return answer;
  }
}
