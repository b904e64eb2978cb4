import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { pagination, Pagination } from '../../../common/http/pagination';
import { SYSTEM_ENVIRONMENT } from '../environment-access';
import { PythonTools } from '../python-tools';
import { EnvironmentRepository } from '../repositories/environment.repository';

export interface AvailableEnvironmentView {
  id: string | null;
  name: string;
  backend: 'system' | 'venv' | 'conda';
  python_version: string;
  is_public: boolean;
  owner_id: string | null;
  own: boolean;
}

/** What the caller may run with: the system environment, their own ready ones, then others' public ones; one page of that list. */
export class ListAvailableEnvironmentsQuery extends Query<{ environments: AvailableEnvironmentView[]; pagination: Pagination }> {
  constructor(
    readonly userId: string,
    readonly page: number,
    readonly limit: number,
  ) {
    super();
  }
}

@QueryHandler(ListAvailableEnvironmentsQuery)
export class ListAvailableEnvironmentsHandler implements IQueryHandler<ListAvailableEnvironmentsQuery> {
  constructor(
    private readonly environments: EnvironmentRepository,
    private readonly tools: PythonTools,
  ) {}

  async execute({ userId, page, limit }: ListAvailableEnvironmentsQuery): Promise<{ environments: AvailableEnvironmentView[]; pagination: Pagination }> {
    // The list is the system environment (it has no row) followed by the table's rows, so
    // item `start` of it is row `start - 1`; the first page shows the system environment
    // and one row less than it read.
    const start = (page - 1) * limit;
    const { rows, total } = await this.environments.listRunnableBy(userId, Math.max(start - 1, 0), limit);
    const others = rows.map(
      (row): AvailableEnvironmentView => ({
        id: row.id, name: row.name, backend: row.backend, python_version: row.pythonVersion, is_public: row.isPublic, owner_id: row.userId, own: row.userId === userId,
      }),
    );
    const environments = start === 0 ? [await this.system(), ...others].slice(0, limit) : others;
    return { environments, pagination: pagination(total + 1, { page, limit }) };
  }

  private async system(): Promise<AvailableEnvironmentView> {
    const pythonVersion = await this.tools.systemPythonVersion().catch(() => '');
    return { id: null, name: SYSTEM_ENVIRONMENT, backend: 'system', python_version: pythonVersion, is_public: true, owner_id: null, own: false };
  }
}
