import { Inject, Injectable } from '@nestjs/common';
import { Actor, mayActOn, mayRead } from '../../common/auth/ownership';
import { AppError } from '../../common/errors/app-error';
import { ErrorCode } from '../../common/errors/error-code';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { UserEnvironmentEntity } from './entities/user-environment.entity';
import { pythonIn } from './environment-directories';
import { EnvironmentRepository } from './repositories/environment.repository';

export const SYSTEM_ENVIRONMENT = 'system';

/** An environment pip and python can be run in: a user's, or the system one (`row` null). */
export interface EnvironmentTarget {
  row: UserEnvironmentEntity | null;
  name: string;
  python: string;
}

/**
 * The owner rules (common/auth/ownership.ts) applied to environments: the
 * owner and admins may read and change; others may read (and run with) public
 * ones; someone else's private environment does not exist for them (404);
 * changing someone else's public one is 403.
 */
@Injectable()
export class EnvironmentAccess {
  constructor(
    private readonly environments: EnvironmentRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async readable(actor: Actor, id: string): Promise<UserEnvironmentEntity> {
    const row = await this.environments.findById(id);
    if (!row || !mayRead(actor, row)) throw AppError.notFound('Environment');
    return row;
  }

  async changeable(actor: Actor, id: string): Promise<UserEnvironmentEntity> {
    const row = await this.readable(actor, id);
    assertMayChange(actor, row);
    return row;
  }

  /** `/environments/:name`: the system environment, else the caller's own, else a public one (the oldest), else (admins) anyone's (the oldest). */
  async byName(actor: Actor, name: string): Promise<EnvironmentTarget> {
    if (name === SYSTEM_ENVIRONMENT) return { row: null, name, python: this.config.execution.pythonBinary };
    const row =
      (await this.environments.findOwnedByName(actor.userId, name)) ??
      // Public ones first: a private one is found only when none is public, and only an admin may use it.
      (await this.environments.findFirstNamed(name));
    if (!row || !mayRead(actor, row)) throw AppError.notFound('Environment');
    return { row, name, python: pythonIn(row.path) };
  }

  /** A target for pip install/uninstall/upgrade: not the system one, not someone else's (unless an admin asks), and built. */
  async forPackageChange(actor: Actor, name: string): Promise<EnvironmentTarget & { row: UserEnvironmentEntity }> {
    const target = await this.byName(actor, name);
    if (!target.row) throw AppError.forbidden('The system environment is read-only');
    assertMayChange(actor, target.row);
    assertReady(target.row);
    return { ...target, row: target.row };
  }
}

export function assertMayChange(actor: Actor, row: UserEnvironmentEntity): void {
  if (!mayActOn(actor, row.userId)) throw AppError.forbidden('Only the owner of this environment may change it');
}

export function assertReady(row: UserEnvironmentEntity): void {
  if (row.status !== 'ready') throw new AppError(ErrorCode.CONFLICT, 'The environment is still being created', { status: row.status });
}
