import { Actor, mayActOn } from '../../common/auth/ownership';
import { AppError } from '../../common/errors/app-error';
import type { ServerRepository, ServerRow } from './repositories/server.repository';

/**
 * A server the actor may see and act on: their own, or any for an admin
 * (`local`, which has no owner, only for an admin). Anything else is 404, as
 * a server that does not exist.
 */
export async function ownedServer(servers: ServerRepository, id: string, actor: Actor): Promise<ServerRow> {
  const row = await servers.findById(id);
  if (!row || !mayActOn(actor, row.userId)) throw AppError.notFound('Server');
  return row;
}
