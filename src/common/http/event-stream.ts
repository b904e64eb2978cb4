import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/**
 * Answers 200 with a Server-Sent Events stream: `events` carries the
 * `data: …\n\n` frames. Not cached, and not buffered by a proxy in front
 * (nginx holds a response back unless told `X-Accel-Buffering: no`), so each
 * frame reaches the client as it is written.
 */
export async function sendEventStream(reply: FastifyReply, events: Readable): Promise<void> {
  await reply
    .status(200)
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('x-accel-buffering', 'no')
    .send(events);
}
