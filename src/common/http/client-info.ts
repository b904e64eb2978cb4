import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Where a request came from: the socket's address, or X-Forwarded-For under TRUST_PROXY. */
export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

export function clientInfoOf(request: FastifyRequest): ClientInfo {
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: userAgent ? userAgent.slice(0, 500) : null };
}

export const Client = createParamDecorator(
  (_: unknown, context: ExecutionContext): ClientInfo => clientInfoOf(context.switchToHttp().getRequest<FastifyRequest>()),
);
