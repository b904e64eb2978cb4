import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DiskHealthIndicator, HealthCheck, HealthCheckResult, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Inject } from '@nestjs/common';
import { Public } from '../../common/auth/auth.decorators';
import { SkipRateLimit } from '../../common/http/skip-rate-limit';
import { APP_CONFIG, AppConfig } from '../../config/app-config';

/** Liveness and readiness: the database answers, and DATA_DIR's disk is not full. */
@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly disk: DiskHealthIndicator,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get(['', 'health'])
  @Public()
  @SkipRateLimit()
  @HealthCheck()
  @ApiOperation({ summary: 'Health: database and disk' })
  @ApiOkResponse({ description: 'Healthy' })
  @ApiServiceUnavailableResponse({ description: 'A dependency is down' })
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 3000 }),
      () => this.disk.checkStorage('disk', { path: this.config.dataDir, thresholdPercent: 0.98 }),
    ]);
  }
}
