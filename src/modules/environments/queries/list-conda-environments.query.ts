import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Conda } from '../conda';

/** The environments conda (or mamba, micromamba) knows on this server; none without conda. */
export class ListCondaEnvironmentsQuery extends Query<{ conda_available: boolean; environments: string[] }> {}

@QueryHandler(ListCondaEnvironmentsQuery)
export class ListCondaEnvironmentsHandler implements IQueryHandler<ListCondaEnvironmentsQuery> {
  constructor(private readonly conda: Conda) {}

  async execute(): Promise<{ conda_available: boolean; environments: string[] }> {
    return { conda_available: this.conda.available, environments: await this.conda.environmentNames() };
  }
}
