import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/** Takes a request it recognizes (and answers it); false to leave it to the next, and in the end to Fastify. */
export type RequestHandler = (request: IncomingMessage, response: ServerResponse) => boolean;

/**
 * Requests a context answers before Fastify sees them. The HTTP server's one
 * `request` listener asks each registered handler first and hands the rest to
 * Fastify. For traffic that is not the API's — the deployments proxy's apps —
 * which needs none of the API's hooks, routing, body parsing and metrics, and
 * would pay for each of them on every request.
 */
@Injectable()
export class RequestRouter implements OnApplicationBootstrap {
  private readonly handlers: RequestHandler[] = [];

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  register(handler: RequestHandler): void {
    this.handlers.push(handler);
  }

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>()?.server;
    if (!server || this.handlers.length === 0) return;
    // Fastify's own listener, given to the server when Fastify made it.
    const fastify = server.listeners('request') as Array<(request: IncomingMessage, response: ServerResponse) => void>;
    server.removeAllListeners('request');
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      for (const handler of this.handlers) if (handler(request, response)) return;
      for (const listener of fastify) listener.call(server, request, response);
    });
  }
}
