import { DynamicModule, Global, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessTokens } from './common/auth/access-tokens';
import { AuthGuard } from './common/auth/auth.guard';
import { SecretBox } from './common/crypto/secret-box';
import { ClusterBus } from './common/events/cluster-bus';
import { UpgradeRouter } from './common/http/upgrade-router';
import { RequestRouter } from './common/http/request-router';
import { APP_CONFIG, AppConfig, SECRETS } from './config/app-config';
import type { Secrets } from './config/secrets';
import { AppLogger } from './common/logging/app-logger';
import { MaintenanceJobs } from './common/scheduling/maintenance-jobs';
import { dataSourceOptions } from './database/data-source';
import { AiCatalogModule } from './modules/ai-catalog/ai-catalog.module';
import { AiModule } from './modules/ai/ai.module';
import { AuditModule } from './modules/audit/audit.module';
import { CommunityModule } from './modules/community/community.module';
import { DeploymentsModule } from './modules/deployments/deployments.module';
import { EnvironmentsModule } from './modules/environments/environments.module';
import { ExecutionModule } from './modules/execution/execution.module';
import { AvatarsModule } from './modules/files/avatars/avatars.module';
import { FilesModule } from './modules/files/files.module';
import { MaintenanceModule } from './modules/maintenance/maintenance.module';
import { MonitoringModule } from './modules/monitoring/monitoring.module';
import { NotificationsModule } from './modules/notifications/notifications.module';
import { ObservabilityModule } from './modules/observability/observability.module';
import { HealthModule } from './modules/health/health.module';
import { IdentityModule } from './modules/identity/identity.module';
import { LibraryModule } from './modules/library/library.module';
import { PlansModule } from './modules/plans/plans.module';
import { ProfilesModule } from './modules/profiles/profiles.module';
import { ProjectsModule } from './modules/projects/projects.module';
import { RateLimitGuard } from './modules/rate-limits/rate-limit.guard';
import { RateLimitsModule } from './modules/rate-limits/rate-limits.module';
import { RealtimeModule } from './modules/realtime/realtime.module';

/** What main.ts (or a test, a script) resolved before the app is built. */
export interface AppRuntime {
  config: AppConfig;
  secrets: Secrets;
  logger: AppLogger;
  /** Where PostgreSQL is; a placeholder in preview mode (OpenAPI generation). */
  databaseUrl: string;
}

@Global()
@Module({})
class CoreModule {
  static register(runtime: AppRuntime): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: runtime.config },
        { provide: SECRETS, useValue: runtime.secrets },
        { provide: AppLogger, useValue: runtime.logger },
        MaintenanceJobs,
        ClusterBus,
        UpgradeRouter,
        RequestRouter,
        AccessTokens,
        { provide: SecretBox, useValue: new SecretBox(runtime.secrets.encryptionKey, runtime.config.auth.previousEncryptionKeys) },
      ],
      exports: [APP_CONFIG, SECRETS, AppLogger, MaintenanceJobs, ClusterBus, UpgradeRouter, RequestRouter, AccessTokens, SecretBox],
    };
  }
}

@Module({})
export class AppModule {
  static register(runtime: AppRuntime): DynamicModule {
    return {
      module: AppModule,
      imports: [
        CoreModule.register(runtime),
        CqrsModule.forRoot(),
        TypeOrmModule.forRoot({
          ...dataSourceOptions(runtime.databaseUrl, runtime.config.database.poolSize),
          autoLoadEntities: true,
        }),
        HealthModule,
        PlansModule,
        IdentityModule,
        AuditModule,
        RateLimitsModule,
        MaintenanceModule,
        ExecutionModule,
        LibraryModule,
        EnvironmentsModule,
        FilesModule,
        AvatarsModule,
        ProjectsModule,
        CommunityModule,
        ProfilesModule,
        AiCatalogModule,
        AiModule,
        NotificationsModule,
        RealtimeModule,
        DeploymentsModule,
        ObservabilityModule,
        MonitoringModule,
      ],
      // Global guards run in this order: first who is calling, then how often they may
      // (not at all with RATE_LIMIT_ENABLED=false).
      providers: [
        { provide: APP_GUARD, useExisting: AuthGuard },
        ...(runtime.config.rateLimit.enabled ? [{ provide: APP_GUARD, useExisting: RateLimitGuard }] : []),
      ],
    };
  }
}
