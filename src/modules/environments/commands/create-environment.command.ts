import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { GetPlanQuery } from '../../plans/queries/get-plan.query';
import { Conda } from '../conda';
import { UserEnvironmentEntity } from '../entities/user-environment.entity';
import { EnvironmentDirectories, pythonIn } from '../environment-directories';
import { EnvironmentLocks } from '../environment-locks';
import { PythonTools } from '../python-tools';
import { EnvironmentRepository, isDuplicateName } from '../repositories/environment.repository';

export interface CreateEnvironmentInput {
  name: string;
  description?: string;
  python_version?: string;
  is_public?: boolean;
  packages?: string[];
}

export interface EnvironmentOwnerPrincipal extends Actor {
  /** The plan id (user level) whose max_environments applies to non-admins. */
  level: string;
}

/**
 * Creates an environment: a conda one when a Python version is asked for and
 * conda is available, else a venv of PYTHON_BIN; then installs `packages`.
 * If any step fails, nothing is left behind (row and directory are removed).
 */
export class CreateEnvironmentCommand extends Command<UserEnvironmentEntity> {
  constructor(
    readonly owner: EnvironmentOwnerPrincipal,
    readonly input: CreateEnvironmentInput,
  ) {
    super();
  }
}

@CommandHandler(CreateEnvironmentCommand)
export class CreateEnvironmentHandler implements ICommandHandler<CreateEnvironmentCommand> {
  constructor(
    private readonly environments: EnvironmentRepository,
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queries: QueryBus,
    private readonly directories: EnvironmentDirectories,
    private readonly tools: PythonTools,
    private readonly conda: Conda,
    private readonly locks: EnvironmentLocks,
  ) {}

  async execute({ owner, input }: CreateEnvironmentCommand): Promise<UserEnvironmentEntity> {
    const backend = await this.backendFor(input.python_version);
    const limit = await this.environmentLimit(owner);
    const id = uuidv7();
    const path = this.directories.directoryFor(id);
    const now = new Date();
    const row: UserEnvironmentEntity = {
      id, userId: owner.userId, name: input.name, description: input.description ?? '', pythonVersion: input.python_version ?? '',
      backend, isPublic: input.is_public ?? false, path, status: 'creating', createdAt: now, updatedAt: now,
    };
    await this.insertWithinLimit(row, limit);
    try {
      await this.locks.run(id, async () => {
        await this.directories.prepareRoot();
        if (backend === 'conda') await this.conda.create(path, input.python_version!);
        else await this.tools.run(this.config.execution.pythonBinary, ['-m', 'venv', path], 'venv');
        const python = pythonIn(path);
        row.pythonVersion = await this.tools.pythonVersion(python);
        if (input.packages?.length) await this.tools.install(python, input.packages);
      });
    } catch (error) {
      await this.environments.delete(id);
      await this.directories.remove(id);
      throw error;
    }
    row.status = 'ready';
    row.updatedAt = new Date();
    await this.environments.markReady(id, row.pythonVersion, row.updatedAt);
    return row;
  }

  private async backendFor(pythonVersion: string | undefined): Promise<'venv' | 'conda'> {
    if (pythonVersion === undefined) return 'venv';
    if (this.conda.available) return 'conda';
    const system = await this.tools.systemPythonVersion();
    if (system === pythonVersion || system.startsWith(`${pythonVersion}.`)) return 'venv';
    throw new AppError(ErrorCode.UNPROCESSABLE, `Python ${pythonVersion} is not available: without conda, environments use the server's Python ${system}`, {
      python_version: pythonVersion, available: [system],
    });
  }

  private async environmentLimit(owner: EnvironmentOwnerPrincipal): Promise<number | null> {
    if (owner.admin) return null;
    const plan = await this.queries.execute(new GetPlanQuery(owner.level));
    if (!plan) throw new AppError(ErrorCode.INTERNAL_ERROR, `unknown plan ${owner.level}`);
    return plan.max_environments;
  }

  /** Count and insert in one transaction under a per-user lock, so two concurrent creates cannot both take the last slot. */
  private async insertWithinLimit(row: UserEnvironmentEntity, limit: number | null): Promise<void> {
    try {
      await this.dataSource.transaction(async (manager) => {
        if (limit !== null) {
          await this.environments.lockOwner(row.userId, manager);
          const count = await this.environments.countOwnedBy(row.userId, manager);
          if (count >= limit) {
            throw new AppError(ErrorCode.FORBIDDEN, `Your plan allows ${limit} environment${limit === 1 ? '' : 's'}`, { limit, current: count });
          }
        }
        await this.environments.insert(row, manager);
      });
    } catch (error) {
      if (isDuplicateName(error)) throw AppError.conflict(`You already have an environment named ${row.name}`, { field: 'name' });
      throw error;
    }
  }
}
