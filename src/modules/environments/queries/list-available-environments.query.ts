import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { UserEnvironmentEntity } from '../entities/user-environment.entity';
import { SYSTEM_ENVIRONMENT } from '../environment-access';
import { PythonTools } from '../python-tools';

export interface AvailableEnvironmentView {
  id: string | null;
  name: string;
  backend: 'system' | 'venv' | 'conda';
  python_version: string;
  is_public: boolean;
  owner_id: string | null;
  own: boolean;
}

/** What the caller may run with: the system environment, their own ready ones, then others' public ones. */
export class ListAvailableEnvironmentsQuery extends Query<AvailableEnvironmentView[]> {
  constructor(readonly userId: string) {
    super();
  }
}

@QueryHandler(ListAvailableEnvironmentsQuery)
export class ListAvailableEnvironmentsHandler implements IQueryHandler<ListAvailableEnvironmentsQuery> {
  constructor(
    @InjectRepository(UserEnvironmentEntity) private readonly environments: Repository<UserEnvironmentEntity>,
    private readonly tools: PythonTools,
  ) {}

  async execute({ userId }: ListAvailableEnvironmentsQuery): Promise<AvailableEnvironmentView[]> {
    const rows = await this.environments
      .createQueryBuilder('e')
      .where("e.status = 'ready'")
      .andWhere('(e.user_id = :userId OR e.is_public)', { userId })
      .orderBy('e.user_id = :userId', 'DESC')
      .addOrderBy('e.name', 'ASC')
      .addOrderBy('e.created_at', 'ASC')
      .getMany();
    const system: AvailableEnvironmentView = {
      id: null, name: SYSTEM_ENVIRONMENT, backend: 'system', python_version: await this.tools.systemPythonVersion().catch(() => ''), is_public: true, owner_id: null, own: false,
    };
    return [
      system,
      ...rows.map((row) => ({
        id: row.id, name: row.name, backend: row.backend, python_version: row.pythonVersion, is_public: row.isPublic, owner_id: row.userId, own: row.userId === userId,
      })),
    ];
  }
}
