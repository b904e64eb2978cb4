import { promises as dns } from 'node:dns';
import { isIP, Socket } from 'node:net';
import { within } from '../../../common/within';

export interface TcpProbeResult {
  online: boolean;
  /** Connect time in milliseconds; null when it failed. */
  latencyMs: number | null;
  /** Why no connect was tried (the name did not resolve, or its address is refused); for the logs only. */
  skipped?: string;
}

export interface TcpProbeOptions {
  /** For the whole probe: resolving the name and connecting. */
  timeoutMs: number;
  /** c-ares (its own sockets, not libuv's thread pool, which bcrypt and the file system share). */
  resolver: dns.Resolver;
  /** Why the resolved address may not be connected to, or null when it may (host-policy.ts); absent: any may. */
  refuse?: (address: string) => string | null;
}

/** RFC 6761: localhost and its subdomains are the loopback, never asked of DNS (c-ares reads no hosts file). */
const LOCALHOST = /^(.+\.)?localhost\.?$/i;

/** A resolver for probes: one try per query, each within `timeoutMs` (c-ares' own timer). */
export function probeResolver(timeoutMs: number): dns.Resolver {
  return new dns.Resolver({ timeout: timeoutMs, tries: 1 });
}

/**
 * One TCP probe of host:port. A name is resolved first (A, else AAAA, through
 * `resolver`, within the time left), the address checked with `refuse`, and
 * the connect made to that very address (no second lookup, so a name cannot
 * answer one address to the check and another to the connect). Online when
 * the handshake completes within what is left of `timeoutMs` (the socket is
 * then closed at once, nothing is sent); offline when it is refused,
 * unreachable, the name does not resolve, the address is refused, or the time
 * runs out. Never rejects.
 */
export async function tcpProbe(host: string, port: number, options: TcpProbeOptions): Promise<TcpProbeResult> {
  const deadline = Date.now() + options.timeoutMs;
  let address: string;
  if (isIP(host)) address = host;
  else if (LOCALHOST.test(host)) address = '127.0.0.1';
  else {
    const resolved = await resolve(options.resolver, host, options.timeoutMs);
    if (typeof resolved !== 'string') return { online: false, latencyMs: null, skipped: resolved.problem };
    address = resolved;
  }
  const refused = options.refuse?.(address);
  if (refused) return { online: false, latencyMs: null, skipped: host === address ? refused : `${host} resolves to ${address}: ${refused}` };
  const left = deadline - Date.now();
  if (left <= 0) return { online: false, latencyMs: null, skipped: `${host} did not resolve in time` };
  return connect(address, port, left);
}

/** The first address of the name (IPv4 first), or why there is none. */
async function resolve(resolver: dns.Resolver, host: string, timeoutMs: number): Promise<string | { problem: string }> {
  const lookup = (async (): Promise<string | { problem: string }> => {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    if (v4.status === 'fulfilled' && v4.value.length > 0) return v4.value[0];
    if (v6.status === 'fulfilled' && v6.value.length > 0) return v6.value[0];
    const reason = (v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : undefined) as NodeJS.ErrnoException | undefined;
    return { problem: `${host} does not resolve (${reason?.code ?? 'no address'})` };
  })();
  return within(lookup, timeoutMs, () => ({ problem: `${host} did not resolve within ${timeoutMs} ms` }));
}

/** One TCP connect to an address within `timeoutMs`. */
function connect(address: string, port: number, timeoutMs: number): Promise<TcpProbeResult> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const socket = new Socket();
    let settled = false;
    const finish = (online: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const latencyMs = online ? Math.round(Number(process.hrtime.bigint() - started) / 10_000) / 100 : null;
      socket.destroy();
      resolve({ online, latencyMs });
    };
    // A timer of our own (not socket.setTimeout, which counts idle time only once connected).
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.connect({ host: address, port });
  });
}
