import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { EnvironmentAccess } from '../environment-access';
import { EnvironmentLocks } from '../environment-locks';
import { InstalledPackage, PythonTools } from '../python-tools';

export interface InstallResult {
  environment_id: string;
  installed: string[];
  packages: InstalledPackage[];
}

/** pip install into an environment (owner or admin), one pip run at a time per environment. */
export class InstallPackagesCommand extends Command<InstallResult> {
  constructor(
    readonly actor: Actor,
    readonly environmentName: string,
    /** Validated PEP 508 requirements (see requirement.ts). */
    readonly requirements: string[],
  ) {
    super();
  }
}

@CommandHandler(InstallPackagesCommand)
export class InstallPackagesHandler implements ICommandHandler<InstallPackagesCommand> {
  constructor(
    private readonly access: EnvironmentAccess,
    private readonly tools: PythonTools,
    private readonly locks: EnvironmentLocks,
  ) {}

  async execute({ actor, environmentName, requirements }: InstallPackagesCommand): Promise<InstallResult> {
    const target = await this.access.forPackageChange(actor, environmentName);
    return this.locks.run(target.row.id, async () => {
      await this.tools.install(target.python, requirements);
      return { environment_id: target.row.id, installed: requirements, packages: await this.tools.listPackages(target.python) };
    });
  }
}
