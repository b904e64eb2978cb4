import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadGatewayResponse, ApiBadRequestResponse, ApiConflictResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { PageQuery } from '../../../common/http/pagination';
import { InstallPackagesCommand } from '../commands/install-packages.command';
import { UninstallPackageCommand } from '../commands/uninstall-package.command';
import { UpgradePackageCommand } from '../commands/upgrade-package.command';
import { GetEnvironmentInfoQuery } from '../queries/get-environment-info.query';
import { ListAvailableEnvironmentsQuery } from '../queries/list-available-environments.query';
import { ListCondaEnvironmentsQuery } from '../queries/list-conda-environments.query';
import { ListPackagesQuery } from '../queries/list-packages.query';
import { requirementName } from '../requirement';
import {
  AvailableEnvironmentsResponse, CondaEnvironmentsResponse, EnvironmentInfoResponse, InstallPackagesRequest, InstallPackagesResponse, PackageListResponse,
  UninstallPackageResponse, UpgradePackageResponse,
} from './dto/environment.dto';
import { EnvironmentNameParam, PackageNameParam } from './route-params';

// Package names only (no versions) go into the audit log.
const installedNames = (request: FastifyRequest) => {
  const packages = (request.body as { packages?: unknown } | undefined)?.packages;
  return { environment: (request.params as { name?: string }).name, packages: Array.isArray(packages) ? packages.map((p) => requirementName(String(p))) : [] };
};
const packageParam = (request: FastifyRequest) => {
  const params = request.params as { name?: string; package?: string };
  return { environment: params.name, package: params.package };
};
const environmentId = (result: { environment_id?: string }) => result.environment_id;

const pipFailure = { description: 'pip failed; details.output carries its message', type: ErrorResponse };

@ApiTags('environments')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller()
export class EnvironmentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('conda-environments')
  @ApiOperation({ summary: 'Names of the environments conda (mamba, micromamba) knows on this server' })
  @ApiOkResponse({ type: CondaEnvironmentsResponse })
  condaEnvironments(): Promise<CondaEnvironmentsResponse> {
    return this.queries.execute(new ListCondaEnvironmentsQuery());
  }

  @Get('environments/available')
  @ApiOperation({ summary: 'Environments I may run with: system, mine, and public ones (paginated; system counts as the first item)' })
  @ApiOkResponse({ type: AvailableEnvironmentsResponse })
  available(@CurrentUser() user: Principal, @Query() query: PageQuery): Promise<AvailableEnvironmentsResponse> {
    return this.queries.execute(new ListAvailableEnvironmentsQuery(user.user_id, query.page, query.limit));
  }

  @Get('environments/:name/info')
  @ApiOperation({ summary: 'Python version, path, size on disk, package count and owner', description: '`name`: `system`, else one of mine, else a public one.' })
  @ApiOkResponse({ type: EnvironmentInfoResponse })
  @ApiNotFoundResponse({ description: 'No such environment I may see', type: ErrorResponse })
  info(@CurrentUser() user: Principal, @EnvironmentNameParam() name: string): Promise<EnvironmentInfoResponse> {
    return this.queries.execute(new GetEnvironmentInfoQuery(actorOf(user), name));
  }

  @Get('environments/:name/packages')
  @ApiOperation({ summary: 'Installed packages (pip list)' })
  @ApiOkResponse({ type: PackageListResponse })
  @ApiNotFoundResponse({ description: 'No such environment I may see', type: ErrorResponse })
  async packages(@CurrentUser() user: Principal, @EnvironmentNameParam() name: string): Promise<PackageListResponse> {
    return { environment: name, packages: await this.queries.execute(new ListPackagesQuery(actorOf(user), name)) };
  }

  @Post('environments/:name/packages/install')
  @HttpCode(200)
  @Audit({ action: 'package.install', resourceType: 'environment', resourceId: environmentId, metadata: installedNames })
  @ApiOperation({ summary: 'pip install PEP 508 requirements into my environment (one pip run at a time per environment)' })
  @ApiOkResponse({ type: InstallPackagesResponse })
  @ApiForbiddenResponse({ description: 'The system environment, or another user\'s public one', type: ErrorResponse })
  @ApiNotFoundResponse({ description: 'No such environment I may see', type: ErrorResponse })
  @ApiConflictResponse({ description: 'The environment is still being created', type: ErrorResponse })
  @ApiUnprocessableEntityResponse(pipFailure)
  @ApiBadGatewayResponse({ description: 'The package index failed, or pip timed out', type: ErrorResponse })
  install(@CurrentUser() user: Principal, @EnvironmentNameParam() name: string, @Body() body: InstallPackagesRequest): Promise<InstallPackagesResponse> {
    return this.commands.execute(new InstallPackagesCommand(actorOf(user), name, body.packages));
  }

  @Delete('environments/:name/packages/:package')
  @Audit({ action: 'package.uninstall', resourceType: 'environment', resourceId: environmentId, metadata: packageParam })
  @ApiOperation({ summary: 'pip uninstall a package from my environment' })
  @ApiOkResponse({ type: UninstallPackageResponse })
  @ApiForbiddenResponse({ description: 'The system environment, or another user\'s public one', type: ErrorResponse })
  @ApiNotFoundResponse({ description: 'No such environment I may see, or the package is not installed', type: ErrorResponse })
  @ApiUnprocessableEntityResponse(pipFailure)
  uninstall(@CurrentUser() user: Principal, @EnvironmentNameParam() name: string, @PackageNameParam() pkg: string): Promise<UninstallPackageResponse> {
    return this.commands.execute(new UninstallPackageCommand(actorOf(user), name, pkg));
  }

  @Put('environments/:name/packages/:package/upgrade')
  @Audit({ action: 'package.upgrade', resourceType: 'environment', resourceId: environmentId, metadata: packageParam })
  @ApiOperation({ summary: 'pip install --upgrade an installed package in my environment' })
  @ApiOkResponse({ type: UpgradePackageResponse })
  @ApiForbiddenResponse({ description: 'The system environment, or another user\'s public one', type: ErrorResponse })
  @ApiNotFoundResponse({ description: 'No such environment I may see, or the package is not installed', type: ErrorResponse })
  @ApiUnprocessableEntityResponse(pipFailure)
  @ApiBadGatewayResponse({ description: 'The package index failed, or pip timed out', type: ErrorResponse })
  upgrade(@CurrentUser() user: Principal, @EnvironmentNameParam() name: string, @PackageNameParam() pkg: string): Promise<UpgradePackageResponse> {
    return this.commands.execute(new UpgradePackageCommand(actorOf(user), name, pkg));
  }
}
