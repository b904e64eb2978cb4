import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * passport keeps one strategy per name for the whole process, and the strategy
 * constructed last wins. Each app (two replicas in one test process, an app a
 * test stops while another keeps serving) must still check a request with its
 * own services, so each app's strategy is remembered by the app's Fastify
 * instance and the registered one hands every request to the request's own.
 */
export class PerAppStrategies<T> {
  private readonly byServer = new WeakMap<FastifyInstance, T>();

  register(server: FastifyInstance | undefined, strategy: T): void {
    if (server) this.byServer.set(server, strategy);
  }

  /** The strategy of the app that received `request` (`fallback` outside an HTTP app). */
  for(request: FastifyRequest, fallback: T): T {
    return this.byServer.get(request.server) ?? fallback;
  }
}
