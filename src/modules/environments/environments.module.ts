import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IdentityModule } from '../identity/identity.module';
import { PlansModule } from '../plans/plans.module';
import { CreateEnvironmentHandler } from './commands/create-environment.command';
import { DeleteEnvironmentHandler } from './commands/delete-environment.command';
import { InstallPackagesHandler } from './commands/install-packages.command';
import { UninstallPackageHandler } from './commands/uninstall-package.command';
import { UpdateEnvironmentHandler } from './commands/update-environment.command';
import { UpgradePackageHandler } from './commands/upgrade-package.command';
import { Conda } from './conda';
import { UserEnvironmentEntity } from './entities/user-environment.entity';
import { EnvironmentAccess } from './environment-access';
import { EnvironmentDirectories } from './environment-directories';
import { EnvironmentLocks } from './environment-locks';
import { AdminUserEnvironmentsController } from './http/admin-user-environments.controller';
import { EnvironmentsController } from './http/environments.controller';
import { UserEnvironmentsController } from './http/user-environments.controller';
import { PythonTools } from './python-tools';
import { GetEnvironmentInfoHandler } from './queries/get-environment-info.query';
import { GetUserEnvironmentHandler } from './queries/get-user-environment.query';
import { ListAvailableEnvironmentsHandler } from './queries/list-available-environments.query';
import { ListCondaEnvironmentsHandler } from './queries/list-conda-environments.query';
import { ListPackagesHandler } from './queries/list-packages.query';
import { ListUserEnvironmentsHandler } from './queries/list-user-environments.query';
import { ResolveEnvironmentHandler } from './queries/resolve-environment.query';
import { EnvironmentRepository } from './repositories/environment.repository';

const controllers = [UserEnvironmentsController, AdminUserEnvironmentsController, EnvironmentsController];
const commandHandlers = [
  CreateEnvironmentHandler, UpdateEnvironmentHandler, DeleteEnvironmentHandler, InstallPackagesHandler, UninstallPackageHandler, UpgradePackageHandler,
];
const queryHandlers = [
  ListUserEnvironmentsHandler, GetUserEnvironmentHandler, ListAvailableEnvironmentsHandler, ListCondaEnvironmentsHandler, GetEnvironmentInfoHandler,
  ListPackagesHandler, ResolveEnvironmentHandler,
];
const services = [PythonTools, Conda, EnvironmentAccess, EnvironmentDirectories, EnvironmentLocks];
const repositories = [EnvironmentRepository];

/** Users' Python environments (venv or conda) and their packages (pip). */
@Module({
  // Identity: GetUserQuery (the owner's plan); plans: GetPlanQuery (how many environments it allows).
  imports: [TypeOrmModule.forFeature([UserEnvironmentEntity]), IdentityModule, PlansModule],
  controllers,
  providers: [...repositories, ...services, ...commandHandlers, ...queryHandlers],
})
export class EnvironmentsModule {}
