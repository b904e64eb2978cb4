import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayRead } from '../../../common/auth/ownership';
import { pythonIn } from '../environment-directories';
import { EnvironmentRepository } from '../repositories/environment.repository';
import { UUID_PATTERN as UUID } from '../../../common/ids';

export interface ResolvedEnvironment {
  id: string;
  name: string;
  /** The environment's directory, to mount read-only into a sandbox. */
  directory: string;
  /** `<directory>/bin/python`. */
  python_binary: string;
}

/**
 * For the execution engine: the environment a run may use, or null when it
 * does not exist, is not built yet, or is someone else's private one (and the
 * caller is not an admin).
 */
export class ResolveEnvironmentQuery extends Query<ResolvedEnvironment | null> {
  constructor(
    readonly environmentId: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(ResolveEnvironmentQuery)
export class ResolveEnvironmentHandler implements IQueryHandler<ResolveEnvironmentQuery> {
  constructor(private readonly environments: EnvironmentRepository) {}

  async execute({ environmentId, actor }: ResolveEnvironmentQuery): Promise<ResolvedEnvironment | null> {
    if (!UUID.test(environmentId)) return null;
    const row = await this.environments.findById(environmentId.toLowerCase());
    if (!row || row.status !== 'ready') return null;
    if (!mayRead(actor, row)) return null;
    return { id: row.id, name: row.name, directory: row.path, python_binary: pythonIn(row.path) };
  }
}
