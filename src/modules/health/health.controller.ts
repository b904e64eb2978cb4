import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DiskHealthIndicator, HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Inject } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { Public } from '../../common/auth/auth.decorators';
import { SkipRateLimit } from '../../common/http/skip-rate-limit';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { GetSandboxStatusQuery } from '../execution/queries/get-sandbox-status.query';

/**
 * Liveness and readiness: the database answers, and DATA_DIR's disk is not full.
 * The sandbox is reported, not checked: without it only code execution is down
 * (and SANDBOX=none shows its warning here).
 */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly disk: DiskHealthIndicator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queries: QueryBus,
  ) {}

  // '/' rather than '': the root is excluded from the /api/v1 prefix (http-setup.ts), and Swagger
  // applies that exclusion to '/' only, so with '' the document listed /api/v1, which is not served.
  @Get(['/', 'health'])
  @Public()
  @SkipRateLimit()
  @HealthCheck()
  @ApiOperation({ summary: 'Health: database and disk, and how code is sandboxed' })
  @ApiOkResponse({ description: 'Healthy' })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down' })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 3000 }),
      () => this.disk.checkStorage('disk', { path: this.config.dataDir, thresholdPercent: 0.98 }),
      async () => ({ sandbox: { status: 'up' as const, ...(await this.queries.execute(new GetSandboxStatusQuery())) } }),
    ]);
  }
}
