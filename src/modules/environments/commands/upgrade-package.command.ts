import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { EnvironmentAccess } from '../environment-access';
import { EnvironmentLocks } from '../environment-locks';
import { PythonTools } from '../python-tools';
import { normalizeName } from '../requirement';

export interface UpgradeResult {
  environment_id: string;
  name: string;
  previous_version: string;
  version: string;
}

/** pip install --upgrade of an installed package (owner or admin); 404 when it is not installed. */
export class UpgradePackageCommand extends Command<UpgradeResult> {
  constructor(
    readonly actor: Actor,
    readonly environmentName: string,
    /** A validated distribution name. */
    readonly packageName: string,
  ) {
    super();
  }
}

@CommandHandler(UpgradePackageCommand)
export class UpgradePackageHandler implements ICommandHandler<UpgradePackageCommand> {
  constructor(
    private readonly access: EnvironmentAccess,
    private readonly tools: PythonTools,
    private readonly locks: EnvironmentLocks,
  ) {}

  async execute({ actor, environmentName, packageName }: UpgradePackageCommand): Promise<UpgradeResult> {
    const target = await this.access.forPackageChange(actor, environmentName);
    const wanted = normalizeName(packageName);
    return this.locks.run(target.row.id, async () => {
      const before = (await this.tools.listPackages(target.python)).find((p) => normalizeName(p.name) === wanted);
      if (!before) throw AppError.notFound(`Package ${packageName}`);
      await this.tools.install(target.python, [before.name], true);
      const after = (await this.tools.listPackages(target.python)).find((p) => normalizeName(p.name) === wanted);
      return { environment_id: target.row.id, name: before.name, previous_version: before.version, version: after?.version ?? before.version };
    });
  }
}
