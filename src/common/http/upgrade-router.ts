import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';

/** Takes an upgrade request it recognizes (and then owns the socket); false to leave it to the next. */
export type UpgradeHandler = (request: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;

/**
 * The one listener of the HTTP server's `upgrade` event (Fastify does not
 * route upgrades): each context registers a handler for its paths (the
 * WebSocket gateway, the deployments proxy); the first that takes a request
 * owns its socket. A request nobody takes is answered 404; an unparsable URL 400.
 */
@Injectable()
export class UpgradeRouter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly handlers: UpgradeHandler[] = [];

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  /** `first`: asked before the handlers registered without it (a handler that decides by Host before any path). */
  register(handler: UpgradeHandler, { first = false } = {}): void {
    if (first) this.handlers.unshift(handler);
    else this.handlers.push(handler);
  }

  onApplicationBootstrap(): void {
    this.server()?.on('upgrade', this.dispatch);
  }

  onApplicationShutdown(): void {
    this.server()?.off('upgrade', this.dispatch);
  }

  private server() {
    return this.adapterHost.httpAdapter?.getInstance<FastifyInstance>()?.server;
  }

  private readonly dispatch = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://localhost');
    } catch {
      return refuse(socket, 400, 'Bad Request');
    }
    for (const handler of this.handlers) if (handler(request, socket, head, url)) return;
    refuse(socket, 404, 'Not Found');
  };
}

export function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
