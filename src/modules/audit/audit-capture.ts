import { Inject, Injectable, OnModuleInit, RequestMethod } from '@nestjs/common';
import { DiscoveryService, HttpAdapterHost, MetadataScanner } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { AUDIT_METADATA, AuditSpec } from '../../common/audit/audit.decorator';
import { AccessTokens } from '../../common/auth/access-tokens';
import type { Principal } from '../../common/auth/principal';
import { API_PREFIX } from '../../common/http/swagger';
import { AppLogger } from '../../common/logging/app-logger';
import { AuditEntry } from './audit-entry';
import { AuditWriter } from './audit-writer';

const AUDITED_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const VERB_BY_METHOD: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' };

type AuditedRequest = FastifyRequest & { principal?: Principal; auditResult?: unknown; errorCode?: string };

/** `/api/v1/api-keys/:id/toggle` → `api_key` (first path segment, singular, snake_case). */
export function resourceTypeOf(routeUrl: string): string {
  const segment = routeUrl.replace(`/${API_PREFIX}/`, '').split('/').find((s) => s && !s.startsWith(':') && s !== 'admin') ?? 'root';
  return segment.replace(/-/g, '_').replace(/s$/, '');
}

/**
 * Turns every POST, PUT, PATCH or DELETE into an audit entry, from a Fastify
 * onSend hook: it runs for every outcome, including requests the guards
 * refused, validation failures and unknown routes, just before the response
 * goes out. With AUDIT_DURABILITY=sync (the default) the response waits until
 * its entry is committed, so no acknowledged request can lose its entry to a
 * crash. Route names come from @Audit() metadata, collected once at start.
 * A route whose @Audit() reads the result (to name the resource or the user)
 * keeps a reference to the handler's result in preSerialization, before Fastify
 * serializes it; reads pay nothing at all.
 *
 * What a request sent is recorded only if it was accepted: a refused request
 * (status >= 400) records its error code, what its handler noted and what its
 * @Audit() names as refused (the account a failed login tried), never the rest
 * of its body. All values are bounded by the writer (acceptable-entry.ts).
 */
@Injectable()
export class AuditCapture implements OnModuleInit {
  /** Route URL (as Fastify knows it) → method → spec. */
  private readonly specs = new Map<string, Map<string, AuditSpec>>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly writer: AuditWriter,
    private readonly accessTokens: AccessTokens,
    private readonly logger: AppLogger,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.audit.enabled) return;
    this.collectSpecs();
    const fastify = this.adapterHost.httpAdapter.getInstance<import('fastify').FastifyInstance>();
    fastify.addHook('preSerialization', (request, reply, payload, done) => {
      if (AUDITED_METHODS.has(request.method) && reply.statusCode < 400) {
        const spec = this.specFor(request.routeOptions.url, request.method);
        if (spec?.resourceId || spec?.userId || spec?.accessToken) (request as AuditedRequest).auditResult = payload;
      }
      done(null, payload);
    });
    const durable = this.config.audit.durability === 'sync';
    fastify.addHook('onSend', (request, reply, payload, done) => {
      if (!AUDITED_METHODS.has(request.method)) return done(null, payload);
      const entry = this.entryFor(request as AuditedRequest, reply);
      if (!entry) return done(null, payload);
      if (!durable) {
        this.writer.record(entry);
        return done(null, payload);
      }
      void this.writer.recordDurably(entry).then(() => done(null, payload));
    });
  }

  /** The request's entry; undefined (and logged) if building it failed, which must never fail the response. */
  private entryFor(request: AuditedRequest, reply: FastifyReply): AuditEntry | undefined {
    try {
      return this.buildEntry(request, reply);
    } catch (error) {
      this.logger.pino.error({ err: error, request_id: request.id }, 'audit entry could not be built');
      return undefined;
    }
  }

  private buildEntry(request: AuditedRequest, reply: FastifyReply): AuditEntry {
    // routeOptions is a getter that builds a new object on every read: read it once.
    const routeUrl = request.routeOptions.url;
    const spec = this.specFor(routeUrl, request.method);
    const result = request.auditResult;
    const accepted = reply.statusCode < 400;
    const params = request.params as Record<string, unknown> | undefined;
    const metadata: Record<string, unknown> = { ...(accepted ? spec?.metadata?.(request) : spec?.refusedMetadata?.(request)) };
    if (request.principal?.api_key_id) metadata.api_key_id = request.principal.api_key_id;
    if (request.errorCode) metadata.error_code = request.errorCode;
    if (request.principal?.auditNotes) Object.assign(metadata, request.principal.auditNotes);
    const userAgent = request.headers['user-agent'];
    const pathId = typeof params?.id === 'string' ? params.id : null;
    const tokenSubject = result !== undefined && spec?.accessToken ? this.accessTokens.subjectOf(spec.accessToken(result)) : undefined;
    return {
      created_at: new Date(),
      user_id: request.principal?.user_id ?? (result !== undefined ? spec?.userId?.(result) : undefined) ?? tokenSubject ?? null,
      action: spec?.action ?? (routeUrl ? `${resourceTypeOf(routeUrl)}.${VERB_BY_METHOD[request.method]}` : 'route.not_found'),
      resource_type: spec?.resourceType ?? (routeUrl ? resourceTypeOf(routeUrl) : null),
      resource_id: spec?.resourceIdFromRequest?.(request) ?? (result !== undefined ? spec?.resourceId?.(result, { tokenSubject }) : undefined) ?? pathId,
      status_code: reply.statusCode,
      method: request.method,
      path: request.url.split('?')[0],
      ip: request.ip,
      user_agent: typeof userAgent === 'string' ? userAgent : null,
      request_id: String(request.id),
      duration_ms: Math.round(reply.elapsedTime),
      metadata,
    };
  }

  private specFor(routeUrl: string | undefined, method: string): AuditSpec | undefined {
    return routeUrl ? this.specs.get(routeUrl)?.get(method) : undefined;
  }

  private collectSpecs(): void {
    for (const wrapper of this.discovery.getControllers()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const controllerPaths = [Reflect.getMetadata('path', metatype) ?? ''].flat() as string[];
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as object;
        const spec = Reflect.getMetadata(AUDIT_METADATA, handler) as AuditSpec | undefined;
        if (!spec) continue;
        const method = RequestMethod[Reflect.getMetadata('method', handler) as RequestMethod];
        const paths = [Reflect.getMetadata('path', handler) ?? ''].flat() as string[];
        for (const controllerPath of controllerPaths) {
          for (const path of paths) {
            // Under the API prefix, and without it for the few routes the prefix excludes (the OpenAI-compatible /v1/*).
            for (const prefix of [API_PREFIX, '']) {
              const url = `/${[prefix, controllerPath, path].map((p) => p.replace(/^\/|\/$/g, '')).filter(Boolean).join('/')}`;
              if (!this.specs.has(url)) this.specs.set(url, new Map());
              this.specs.get(url)!.set(method, spec);
            }
          }
        }
      }
    }
  }
}
