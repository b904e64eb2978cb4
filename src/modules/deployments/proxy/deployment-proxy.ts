import { IncomingHttpHeaders, IncomingMessage, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { refuse, UpgradeRouter } from '../../../common/http/upgrade-router';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { AuthenticateTokenQuery } from '../../identity/queries/authenticate-token.query';
import { DeploymentRepository } from '../repositories/deployment.repository';
import { AppRoute, DeploymentRunner } from '../runtime/deployment-runner';
import { UUID_PATTERN as UUID } from '../../../common/ids';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the message's: never forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

/** Requests and 5xx answers per deployment since start (this replica). */
export interface ProxyCounters {
  requests: number;
  errors: number;
}

/**
 * `/d/<id>/…`: forwards HTTP to a running deployment through its socket,
 * bodies streamed both ways (nothing is buffered or parsed here), with
 * X-Forwarded-For/-Proto/-Host/-Prefix added; the app sees the path after
 * /d/<id>. A deployment that is not running answers 503 with a short page,
 * an unknown one 404. Public by default; a version with `private: true`
 * answers only its owner (or an admin), whose token is not passed on.
 *
 * Registered on Fastify directly, outside the API prefix and its guards: these
 * are the apps' requests, not the API's.
 */
@Injectable()
export class DeploymentProxy implements OnModuleInit {
  readonly counters = new Map<string, ProxyCounters>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly runner: DeploymentRunner,
    private readonly deployments: DeploymentRepository,
    private readonly queries: QueryBus,
    private readonly upgrades: UpgradeRouter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // First: an upgrade to `<id>.<DEPLOY_DOMAIN>` is the app's whatever its path, /api/v1/ws included.
    this.upgrades.register((request, socket, head, url) => this.upgrade(request, socket, head, url), { first: true });
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const domain = this.config.deployments.domain;
    if (domain) {
      // `<id>.<DEPLOY_DOMAIN>`: every request to such a host is the app's, whatever its path (before any parsing).
      fastify.addHook('onRequest', async (request, reply) => {
        const id = deploymentOfHost(request.headers.host, domain);
        if (id === null) return;
        await this.forward(request, reply, id, request.raw.url ?? '/', '');
        // Answered (or hijacked) here: the API's routes never see it.
        return reply;
      });
    }
    void fastify.register(async (scope) => {
      // Bodies go to the app as they come: no parser reads them here.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
      const handler = (request: FastifyRequest, reply: FastifyReply) => this.forwardByPath(request, reply);
      scope.all('/d/:id', handler);
      scope.all('/d/:id/*', handler);
    });
  }

  /**
   * The access rule of a private version, for HTTP and upgrades alike: 401
   * without a valid token, 404 for anyone but its owner or an admin; null when
   * the request may pass (public, or the owner's), the owner's credentials then
   * taken out of `headers` — they are the platform's business, not the app's.
   */
  private async refusal(route: AppRoute, headers: IncomingHttpHeaders): Promise<401 | 404 | null> {
    if (!route.private) return null;
    const token = (headers['x-api-key'] as string | undefined) || bearerOf(headers);
    const principal = token ? await this.queries.execute(new AuthenticateTokenQuery(token)).catch(() => null) : null;
    if (!principal) return 401;
    if (principal.user_id !== route.ownerId && principal.role !== 'admin') return 404;
    delete headers.authorization;
    delete headers['x-api-key'];
    return null;
  }

  /** Takes WebSocket (any) upgrades on /d/<id>/… and <id>.<DEPLOY_DOMAIN>: the same access rules as HTTP, then a byte pipe to the app. */
  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean {
    const domain = this.config.deployments.domain;
    const byHost = domain ? deploymentOfHost(request.headers.host, domain) : null;
    const target = byHost ? { id: byHost, rest: `${url.pathname}${url.search}`, prefix: null } : pathOf(url);
    if (!target) return false;
    void (async () => {
      const route = UUID.test(target.id) ? this.runner.routeOf(target.id.toLowerCase()) : null;
      if (!route) return refuse(socket, UUID.test(target.id) ? 503 : 404, UUID.test(target.id) ? 'Service Unavailable' : 'Not Found');
      const headers: IncomingHttpHeaders = { ...request.headers };
      // Counted in before any wait, as for HTTP.
      const leave = route.enter();
      const refused = await this.refusal(route, headers);
      if (refused) {
        leave();
        return refused === 401 ? refuse(socket, 401, 'Unauthorized') : refuse(socket, 404, 'Not Found');
      }
      const prior = headers['x-forwarded-for'];
      headers['x-forwarded-for'] = prior ? `${String(prior)}, ${request.socket.remoteAddress}` : request.socket.remoteAddress;
      if (target.prefix) headers['x-forwarded-prefix'] = target.prefix;
      const upstream = connect(route.socketPath);
      const close = () => {
        leave();
        socket.destroy();
        upstream.destroy();
      };
      upstream.on('error', close);
      socket.on('error', close);
      upstream.on('close', close);
      socket.on('close', close);
      const lines = [`${request.method ?? 'GET'} ${target.rest} HTTP/1.1`];
      for (const [name, value] of Object.entries(headers)) {
        for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) lines.push(`${name}: ${item}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    })().catch(() => socket.destroy());
    return true;
  }

  /** `/d/<id>/<rest>`: the app sees `/<rest>` and the query. */
  private forwardByPath(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const url = request.raw.url ?? '/';
    const query = url.includes('?') ? url.slice(url.indexOf('?')) : '';
    return this.forward(request, reply, (request.params as { id: string }).id, `/${(request.params as { '*'?: string })['*'] ?? ''}${query}`, `/d/${(request.params as { id: string }).id.toLowerCase()}`);
  }

  private async forward(request: FastifyRequest, reply: FastifyReply, id: string, path: string, prefix: string): Promise<void> {
    if (!UUID.test(id)) return page(reply, 404, 'No such deployment');
    const deploymentId = id.toLowerCase();
    const route = this.runner.routeOf(deploymentId);
    if (!route) {
      const row = await this.deployments.findById(deploymentId);
      if (!row) return page(reply, 404, 'No such deployment');
      return page(reply, 503, `This deployment is ${row.status}`);
    }
    const headers = forwardedHeaders(request, prefix);
    // Counted in before any wait: a version being replaced meanwhile waits for this request instead of going.
    const leave = route.enter();
    const refused = await this.refusal(route, headers);
    if (refused) {
      leave();
      return refused === 401 ? page(reply, 401, 'This deployment is private: send its owner\'s token') : page(reply, 404, 'No such deployment');
    }

    const counters = this.counters.get(deploymentId) ?? { requests: 0, errors: 0 };
    this.counters.set(deploymentId, counters);
    counters.requests++;

    reply.hijack();
    const response = reply.raw;
    response.on('close', leave);
    const upstream = httpRequest({ socketPath: route.socketPath, method: request.method, path, headers });
    upstream.on('response', (answer) => {
      if ((answer.statusCode ?? 502) >= 500) counters.errors++;
      const outgoing: IncomingHttpHeaders = { ...answer.headers };
      for (const name of HOP_BY_HOP) delete outgoing[name];
      response.writeHead(answer.statusCode ?? 502, outgoing as Record<string, string | string[]>);
      answer.pipe(response);
      answer.on('error', () => response.destroy());
    });
    upstream.on('error', () => {
      counters.errors++;
      if (!response.headersSent) rawPage(response, 502, 'The app did not answer');
      else response.destroy();
    });
    // A client that leaves takes the app's request with it.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.raw.pipe(upstream);
  }
}

/** `/d/<id>/…` upgrades (WebSocket) go to the app as they are: the raw request through its socket, then bytes both ways. */
function pathOf(url: URL): { id: string; rest: string; prefix: string } | null {
  const match = /^\/d\/([^/]+)(\/.*)?$/.exec(url.pathname);
  return match ? { id: match[1], rest: `${match[2] ?? '/'}${url.search}`, prefix: `/d/${match[1].toLowerCase()}` } : null;
}

/** The deployment id of a `<id>.<domain>` Host (any port), or null for any other host. */
export function deploymentOfHost(host: string | undefined, domain: string): string | null {
  const name = (host ?? '').replace(/:\d+$/, '').toLowerCase();
  const suffix = `.${domain.toLowerCase()}`;
  if (!name.endsWith(suffix)) return null;
  const id = name.slice(0, -suffix.length);
  return UUID.test(id) ? id : null;
}

function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  const [scheme, value] = (headers.authorization ?? '').split(' ', 2);
  return scheme?.toLowerCase() === 'bearer' && value ? value : undefined;
}

function forwardedHeaders(request: FastifyRequest, prefix: string): Record<string, string | string[] | undefined> {
  const headers: Record<string, string | string[] | undefined> = { ...request.headers };
  for (const name of HOP_BY_HOP) delete headers[name];
  const prior = request.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${String(prior)}, ${request.ip}` : request.ip;
  headers['x-forwarded-proto'] = request.protocol;
  headers['x-forwarded-host'] = request.headers.host ?? '';
  if (prefix) headers['x-forwarded-prefix'] = prefix;
  return headers;
}

function page(reply: FastifyReply, status: number, text: string): void {
  void reply.status(status).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(html(status, text));
}

function rawPage(response: FastifyReply['raw'], status: number, text: string): void {
  const body = html(status, text);
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(body);
}

function html(status: number, text: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${status}</title></head><body><h1>${status}</h1><p>${text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p></body></html>\n`;
}
