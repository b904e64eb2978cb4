import { Agent, IncomingHttpHeaders, IncomingMessage, request as httpRequest, RequestOptions, ServerResponse } from 'node:http';
import { connect, NetConnectOpts } from 'node:net';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { RequestRouter } from '../../../common/http/request-router';
import { refuse, UpgradeRouter } from '../../../common/http/upgrade-router';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { AuthenticateTokenQuery } from '../../identity/queries/authenticate-token.query';
import { DeploymentRepository } from '../repositories/deployment.repository';
import { AppRoute, DeploymentRunner } from '../runtime/deployment-runner';
import { DeploymentLeases } from '../runtime/deployment-leases';
import type { LeaseHolder } from '../repositories/deployment-lease.repository';
import { UUID_PATTERN as UUID } from '../../../common/ids';

/** Hop-by-hop headers (RFC 9110 §7.6.1) are the connection's, not the message's: never forwarded. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade'];
/** Never taken out because the Connection header names them: the message's framing and its host. */
const KEPT = new Set(['content-length', 'host']);

/** How long reaching the replica that runs a deployment may take before the request is answered 502. */
const REPLICA_CONNECT_TIMEOUT_MS = 5000;

/**
 * Set by a replica forwarding a request to the replica that runs the
 * deployment: that one answers it itself (503 if the app is not up there),
 * never forwards it again. Not passed on to the app.
 */
const FORWARDED_BY = 'x-coderunner-forwarded-by';

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
 * With several replicas, a deployment runs on the one holding its lease; a
 * request reaching another replica is forwarded as it is (bodies streamed,
 * upgrades piped) to that replica's REPLICA_URL, which applies the rules above.
 *
 * Taken before Fastify sees them (RequestRouter, UpgradeRouter), outside the
 * API's prefix, hooks and guards: these are the apps' requests, not the API's.
 */
@Injectable()
export class DeploymentProxy implements OnModuleInit, OnModuleDestroy {
  readonly counters = new Map<string, ProxyCounters>();
  /**
   * Connections to the other replicas, kept open between requests — closed
   * after 30 s unused, before the other side's 72 s (Fastify's keep-alive
   * timeout) could close one just as a request goes out on it.
   */
  private readonly replicaAgent = new Agent({ keepAlive: true, timeout: 30_000 });

  constructor(
    private readonly runner: DeploymentRunner,
    private readonly deployments: DeploymentRepository,
    private readonly queries: QueryBus,
    private readonly upgrades: UpgradeRouter,
    private readonly requests: RequestRouter,
    private readonly leases: DeploymentLeases,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    // First: an upgrade to `<id>.<DEPLOY_DOMAIN>` is the app's whatever its path, /api/v1/ws included.
    this.upgrades.register((request, socket, head) => this.upgrade(request, socket, head), { first: true });
    // Before Fastify: the apps' requests need none of the API's hooks, routing or parsing (bodies go to the app as they come).
    this.requests.register((request, response) => this.take(request, response));
  }

  onModuleDestroy(): void {
    this.replicaAgent.destroy();
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
  private upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const target = this.targetOf(request);
    if (!target) return false;
    void (async () => {
      if (!UUID.test(target.id)) return refuse(socket, 404, 'Not Found');
      const deploymentId = target.id.toLowerCase();
      const route = this.runner.routeOf(deploymentId);
      const holder = route ? null : await this.holderElsewhere(deploymentId, request.headers);
      if (holder) return pipeUpgrade(request, socket, head, addressOf(holder.url), request.url ?? '/', this.replicaHeaders(request, request.headers), () => undefined);
      if (!route) return refuse(socket, 503, 'Service Unavailable');
      // The upgrade's own headers (Connection, Upgrade) go along: the app answers the upgrade.
      const headers = this.appHeaders(request, request.headers, target.prefix);
      // Counted in before any wait, as for HTTP.
      const leave = route.enter();
      const refused = await this.refusal(route, headers);
      if (refused) {
        leave();
        return refused === 401 ? refuse(socket, 401, 'Unauthorized') : refuse(socket, 404, 'Not Found');
      }
      pipeUpgrade(request, socket, head, { path: route.socketPath }, target.rest, headers, leave);
    })().catch(() => socket.destroy());
    return true;
  }

  /**
   * Which deployment a request is for: `<id>.<DEPLOY_DOMAIN>` (any path, the
   * app sees it whole), else `/d/<id>/<rest>` (the app sees `/<rest>` and the
   * query, as sent); null for the API's.
   */
  private targetOf(request: IncomingMessage): { id: string; rest: string; prefix: string } | null {
    const url = request.url ?? '/';
    const domain = this.config.deployments.domain;
    const byHost = domain ? deploymentOfHost(request.headers.host, domain) : null;
    if (byHost) return { id: byHost, rest: url, prefix: '' };
    if (!url.startsWith('/d/')) return null;
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const slash = path.indexOf('/', 3);
    const id = slash === -1 ? path.slice(3) : path.slice(3, slash);
    return { id, rest: `${slash === -1 ? '/' : path.slice(slash)}${query === -1 ? '' : url.slice(query)}`, prefix: `/d/${id.toLowerCase()}` };
  }

  /** HTTP requests for a deployment, taken before Fastify: answered here whatever happens. */
  private take(request: IncomingMessage, response: ServerResponse): boolean {
    const target = this.targetOf(request);
    if (!target) return false;
    this.forward(request, response, target.id, target.rest, target.prefix).catch(() => {
      if (!response.headersSent) rawPage(response, 500, 'The platform failed to pass the request on');
      else response.destroy();
    });
    return true;
  }

  /** `headers` as the app is given them: X-Forwarded-For/-Proto/-Host/-Prefix added, the replicas' mark taken out. */
  private appHeaders(request: IncomingMessage, headers: IncomingHttpHeaders, prefix: string): IncomingHttpHeaders {
    const forwarded = withForwardedFor(headers, request.socket.remoteAddress);
    delete forwarded[FORWARDED_BY];
    forwarded['x-forwarded-proto'] = this.protocolOf(request);
    forwarded['x-forwarded-host'] = request.headers.host ?? '';
    if (prefix) forwarded['x-forwarded-prefix'] = prefix;
    return forwarded;
  }

  /** `headers` as the replica running the deployment is given them: this hop in X-Forwarded-For, and marked as forwarded once. */
  private replicaHeaders(request: IncomingMessage, headers: IncomingHttpHeaders): IncomingHttpHeaders {
    const forwarded = withForwardedFor(headers, request.socket.remoteAddress);
    forwarded[FORWARDED_BY] = this.leases.replicaId;
    return forwarded;
  }

  /** As Fastify's request.protocol has it: the proxy's X-Forwarded-Proto when it is trusted (TRUST_PROXY), else this connection's. */
  private protocolOf(request: IncomingMessage): string {
    const claimed = this.config.trustProxy ? String(request.headers['x-forwarded-proto'] ?? '').split(',')[0].trim() : '';
    return claimed || ((request.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http');
  }

  private async forward(request: IncomingMessage, response: ServerResponse, id: string, path: string, prefix: string): Promise<void> {
    if (!UUID.test(id)) return rawPage(response, 404, 'No such deployment');
    const deploymentId = id.toLowerCase();
    const route = this.runner.routeOf(deploymentId);
    if (!route) {
      const holder = await this.holderElsewhere(deploymentId, request.headers);
      if (holder) return this.forwardToReplica(request, response, holder);
      const row = await this.deployments.findById(deploymentId);
      if (!row) return rawPage(response, 404, 'No such deployment');
      return rawPage(response, 503, `This deployment is ${row.status}`);
    }
    const headers = this.appHeaders(request, requestHeaders(request.headers), prefix);
    // Counted in before any wait: a version being replaced meanwhile waits for this request instead of going.
    const leave = route.enter();
    const refused = await this.refusal(route, headers);
    if (refused) {
      leave();
      return refused === 401 ? rawPage(response, 401, 'This deployment is private: send its owner\'s token') : rawPage(response, 404, 'No such deployment');
    }

    const counters = this.counters.get(deploymentId) ?? { requests: 0, errors: 0 };
    this.counters.set(deploymentId, counters);
    counters.requests++;

    response.on('close', leave);
    relay(request, response, { socketPath: route.socketPath, method: request.method, path, headers }, 'The app did not answer', (status) => {
      if (status >= 500) counters.errors++;
    });
  }

  /** The replica holding a deployment this one does not run, unless the request was forwarded here by another replica already. */
  private async holderElsewhere(deploymentId: string, headers: IncomingHttpHeaders): Promise<LeaseHolder | null> {
    if (headers[FORWARDED_BY] !== undefined) return null;
    const holder = await this.leases.recentHolder(deploymentId);
    return holder?.live && holder.replicaId !== this.leases.replicaId ? holder : null;
  }

  /** The request as it came (path, Host, credentials), to the replica running the deployment; that one counts it and applies the rules. */
  private forwardToReplica(request: IncomingMessage, response: ServerResponse, holder: LeaseHolder): void {
    const headers = this.replicaHeaders(request, requestHeaders(request.headers));
    relay(request, response, { ...addressOf(holder.url), method: request.method, path: request.url ?? '/', headers, agent: this.replicaAgent }, 'The replica running this deployment did not answer');
  }
}

/**
 * Streams a request to `target` and its answer back, both bodies as they
 * come; hop-by-hop headers of the answer stay behind. A target that fails
 * before answering is a 502 page; a client that leaves takes the request with
 * it. `answered` learns the status (the error count).
 */
function relay(incoming: IncomingMessage, response: ServerResponse, target: RequestOptions, failure: string, answered?: (status: number) => void): void {
  const upstream = httpRequest(target);
  // A replica that does not take the connection (a host gone, a black hole) is a 502 within moments, not the system's minutes.
  upstream.on('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), REPLICA_CONNECT_TIMEOUT_MS);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
  upstream.on('response', (answer) => {
    answered?.(answer.statusCode ?? 502);
    // Node frames the answer itself (its length, or chunked).
    const outgoing = withoutConnectionHeaders(answer.headers);
    response.writeHead(answer.statusCode ?? 502, outgoing as Record<string, string | string[]>);
    answer.pipe(response);
    answer.on('error', () => response.destroy());
  });
  upstream.on('error', () => {
    if (!response.headersSent) {
      answered?.(502);
      rawPage(response, 502, failure);
    } else response.destroy();
  });
  response.on('close', () => {
    if (!response.writableFinished) upstream.destroy();
  });
  incoming.pipe(upstream);
}

/** An upgrade passed on as raw bytes: the request line and headers written to `target`, then a pipe both ways until either side closes. */
function pipeUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, target: NetConnectOpts, path: string, headers: IncomingHttpHeaders, closed: () => void): void {
  const upstream = connect(target);
  let open = true;
  let connected = false;
  const timer = setTimeout(() => upstream.destroy(new Error('connect timeout')), REPLICA_CONNECT_TIMEOUT_MS);
  upstream.once('connect', () => {
    connected = true;
    clearTimeout(timer);
  });
  const close = () => {
    if (!open) return;
    open = false;
    clearTimeout(timer);
    closed();
    upstream.destroy();
    // Not reached at all: the client is told so in HTTP, as for a request (end() lets the answer out first).
    if (connected) socket.destroy();
    else refuse(socket, 502, 'Bad Gateway');
  };
  upstream.on('error', close);
  socket.on('error', close);
  upstream.on('close', close);
  socket.on('close', close);
  const lines = [`${request.method ?? 'GET'} ${path} HTTP/1.1`];
  for (const [name, value] of Object.entries(headers)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) lines.push(`${name}: ${item}`);
  }
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length) upstream.write(head);
  socket.pipe(upstream);
  upstream.pipe(socket);
}

/** Where a replica's URL points, for http.request and net.connect alike (an IPv6 address without its brackets). */
function addressOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 80) };
}

/** The message's headers without the connection's own: the hop-by-hop ones (RFC 9110 §7.6.1) and those its Connection header names. */
function withoutConnectionHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named = String(headers.connection ?? '').split(',').map((name) => name.trim().toLowerCase());
  const kept: IncomingHttpHeaders = { ...headers };
  for (const name of [...HOP_BY_HOP, ...named]) if (!KEPT.has(name)) delete kept[name];
  return kept;
}

/**
 * A request's headers for the next hop: without the connection's own, and
 * framed as it came. Node reads a chunked body de-chunked; passed on without
 * saying so (a GET or DELETE is not chunked by default), it would go out
 * unframed on a kept-alive connection, where its bytes would read as another
 * request.
 */
function requestHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const next = withoutConnectionHeaders(headers);
  if (headers['transfer-encoding'] !== undefined) {
    next['transfer-encoding'] = 'chunked';
    delete next['content-length'];
  }
  return next;
}

/** The headers with the client's address added to X-Forwarded-For. */
function withForwardedFor(headers: IncomingHttpHeaders, address: string | undefined): IncomingHttpHeaders {
  const prior = headers['x-forwarded-for'];
  return { ...headers, 'x-forwarded-for': prior ? `${String(prior)}, ${address}` : address };
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

function rawPage(response: ServerResponse, status: number, text: string): void {
  const body = html(status, text);
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(body);
}

function html(status: number, text: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${status}</title></head><body><h1>${status}</h1><p>${text.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`)}</p></body></html>\n`;
}
