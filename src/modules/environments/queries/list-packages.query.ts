import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { assertReady, EnvironmentAccess } from '../environment-access';
import { InstalledPackage, PythonTools } from '../python-tools';

/** `pip list` of an environment the caller may read (`system`, own, public). */
export class ListPackagesQuery extends Query<InstalledPackage[]> {
  constructor(
    readonly actor: Actor,
    readonly environmentName: string,
  ) {
    super();
  }
}

@QueryHandler(ListPackagesQuery)
export class ListPackagesHandler implements IQueryHandler<ListPackagesQuery> {
  constructor(
    private readonly access: EnvironmentAccess,
    private readonly tools: PythonTools,
  ) {}

  async execute({ actor, environmentName }: ListPackagesQuery): Promise<InstalledPackage[]> {
    const target = await this.access.byName(actor, environmentName);
    if (target.row) assertReady(target.row);
    return this.tools.listPackages(target.python);
  }
}
