import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { ExecutionModule } from '../execution/execution.module';
import { IdentityModule } from '../identity/identity.module';
import { RealtimeModule } from '../realtime/realtime.module';
import { MetricsAccessGuard } from './http/metrics-access.guard';
import { MetricsController } from './http/metrics.controller';
import { MetricsRegistry } from './metrics-registry';

/**
 * Observability: Prometheus' GET /metrics (prom-client). Owns no data: the
 * figures are asked of the contexts that keep them when Prometheus scrapes,
 * and HTTP requests are timed by a Fastify hook.
 */
@Module({
  imports: [
    // Identity: AuthenticateTokenQuery (an admin's JWT on /metrics).
    IdentityModule,
    // Execution: GetExecutionLoadQuery; audit: GetAuditWriterStatsQuery; realtime: GetRealtimeStatsQuery;
    // deployments: CountDeploymentsByStatusQuery.
    ExecutionModule,
    AuditModule,
    RealtimeModule,
    DeploymentsModule,
  ],
  controllers: [MetricsController],
  providers: [MetricsRegistry, MetricsAccessGuard],
})
export class ObservabilityModule {}
