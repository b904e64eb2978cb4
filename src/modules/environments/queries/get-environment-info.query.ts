import { IQueryHandler, Query, QueryBus, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { GetUserQuery } from '../../identity/queries/get-user.query';
import { assertReady, EnvironmentAccess } from '../environment-access';
import { sizeOnDisk } from '../environment-directories';
import { PythonTools } from '../python-tools';

export interface EnvironmentInfo {
  id: string | null;
  name: string;
  backend: 'system' | 'venv' | 'conda';
  python_version: string;
  path: string;
  size_bytes: number | null;
  package_count: number;
  owner: { id: string; username: string | null } | null;
  is_public: boolean;
  read_only: boolean;
}

/** Python version, directory, size on disk, package count and owner of an environment the caller may read. */
export class GetEnvironmentInfoQuery extends Query<EnvironmentInfo> {
  constructor(
    readonly actor: Actor,
    readonly environmentName: string,
  ) {
    super();
  }
}

@QueryHandler(GetEnvironmentInfoQuery)
export class GetEnvironmentInfoHandler implements IQueryHandler<GetEnvironmentInfoQuery> {
  constructor(
    private readonly access: EnvironmentAccess,
    private readonly tools: PythonTools,
    private readonly queries: QueryBus,
  ) {}

  async execute({ actor, environmentName }: GetEnvironmentInfoQuery): Promise<EnvironmentInfo> {
    const target = await this.access.byName(actor, environmentName);
    const { row } = target;
    if (row) assertReady(row);
    const [pythonVersion, packages, size, username] = await Promise.all([
      this.tools.pythonVersion(target.python),
      this.tools.listPackages(target.python),
      row ? sizeOnDisk(row.path) : Promise.resolve(null),
      row ? this.username(row.userId) : Promise.resolve(null),
    ]);
    return {
      id: row?.id ?? null,
      name: target.name,
      backend: row?.backend ?? 'system',
      python_version: pythonVersion,
      path: row?.path ?? target.python,
      size_bytes: size,
      package_count: packages.length,
      owner: row ? { id: row.userId, username } : null,
      is_public: row?.isPublic ?? true,
      read_only: !row || !mayActOn(actor, row.userId),
    };
  }

  private async username(userId: string): Promise<string | null> {
    try {
      return (await this.queries.execute(new GetUserQuery(userId))).username;
    } catch {
      return null;
    }
  }
}
