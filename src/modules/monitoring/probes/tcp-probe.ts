import { Socket } from 'node:net';

export interface TcpProbeResult {
  online: boolean;
  /** Connect time in milliseconds; null when it failed. */
  latencyMs: number | null;
}

/**
 * One TCP connect to host:port: online when the handshake completes within
 * `timeoutMs` (the socket is then closed at once, nothing is sent), offline
 * when it is refused, unreachable, the name does not resolve, or the time
 * runs out. Never rejects.
 */
export function tcpProbe(host: string, port: number, timeoutMs: number): Promise<TcpProbeResult> {
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
    // A timer of our own (not socket.setTimeout, which counts idle time only once connected): it covers the DNS lookup too.
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.connect({ host, port });
  });
}
