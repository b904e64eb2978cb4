import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * How much of a refused request body is still read, and dropped, after the
 * answer. Beyond it the connection is closed.
 */
const MAX_DRAINED_BYTES = 16 * 1024 * 1024;
/** A client that stops sending the rest of a refused body for this long loses the connection. */
const DRAIN_IDLE_MS = 5000;

/**
 * Called for an error answered before the request body was read to its end
 * (one over the size limit, mostly). Fastify would close the connection right
 * after the answer, while the client is still sending; the kernel then resets
 * the connection, and the client (Node's fetch, curl) reports that reset
 * instead of the answer it was sent. Reading the rest of the body, up to a
 * bound, lets the answer arrive and keeps the connection usable.
 */
export function drainRefusedBody(request: FastifyRequest, reply: FastifyReply): void {
  const raw = request.raw;
  if (raw.complete) return;
  void reply.removeHeader('connection');
  let drained = 0;
  // A stalled client (or one gone without closing) must not hold the connection, and a shutdown, until the keep-alive timeout.
  const idle = setTimeout(() => raw.socket?.destroy(), DRAIN_IDLE_MS);
  raw.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAINED_BYTES) raw.socket.destroy();
    idle.refresh();
  });
  raw.once('end', () => clearTimeout(idle));
  raw.once('close', () => clearTimeout(idle));
  raw.resume();
}
