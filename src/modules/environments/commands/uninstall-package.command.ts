import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { EnvironmentAccess } from '../environment-access';
import { EnvironmentLocks } from '../environment-locks';
import { PythonTools } from '../python-tools';
import { normalizeName } from '../requirement';

export interface UninstallResult {
  environment_id: string;
  name: string;
  success: true;
}

/** pip uninstall (owner or admin); 404 when the package is not installed. */
export class UninstallPackageCommand extends Command<UninstallResult> {
  constructor(
    readonly actor: Actor,
    readonly environmentName: string,
    /** A validated distribution name. */
    readonly packageName: string,
  ) {
    super();
  }
}

@CommandHandler(UninstallPackageCommand)
export class UninstallPackageHandler implements ICommandHandler<UninstallPackageCommand> {
  constructor(
    private readonly access: EnvironmentAccess,
    private readonly tools: PythonTools,
    private readonly locks: EnvironmentLocks,
  ) {}

  async execute({ actor, environmentName, packageName }: UninstallPackageCommand): Promise<UninstallResult> {
    const target = await this.access.forPackageChange(actor, environmentName);
    return this.locks.run(target.row.id, async () => {
      const installed = (await this.tools.listPackages(target.python)).find((p) => normalizeName(p.name) === normalizeName(packageName));
      if (!installed) throw AppError.notFound(`Package ${packageName}`);
      await this.tools.uninstall(target.python, installed.name);
      return { environment_id: target.row.id, name: installed.name, success: true as const };
    });
  }
}
