import { Module } from '@nestjs/common';
import { DeploymentsModule } from '../deployments/deployments.module';
import { ExecutionModule } from '../execution/execution.module';
import { IdentityModule } from '../identity/identity.module';
import { MonitoringModule } from '../monitoring/monitoring.module';
import { ChannelAccess } from './channel-access';
import { AdminRealtimeController } from './http/admin-realtime.controller';
import { GetRealtimeStatsHandler } from './queries/get-realtime-stats.query';
import { RealtimeGateway } from './realtime-gateway';
import { RealtimeHub } from './realtime-hub';
import { RealtimeRelay } from './realtime-relay';
import { UserAuthChangedHandler } from './user-auth-changed.handler';

/**
 * The WebSocket gateway (/api/v1/ws; the protocol: protocol.ts, the README and
 * asyncapi.json) and the one path channel messages take: any context
 * publishes a RealtimeEvent (common/events) on the EventBus; RealtimeRelay
 * carries it to every replica (ClusterBus) and RealtimeHub to the sockets
 * subscribed there.
 */
@Module({
  imports: [
    // Identity: AuthenticateTokenQuery (?token= and auth messages) and UserAuthChangedEvent (sockets checked again).
    IdentityModule,
    // Execution: GetExecutionQuery (who may watch a run's channel); deployments: GetDeploymentQuery (a deployment's);
    // monitoring: GetServerQuery (a server's).
    ExecutionModule,
    DeploymentsModule,
    MonitoringModule,
  ],
  controllers: [AdminRealtimeController],
  providers: [RealtimeHub, RealtimeGateway, RealtimeRelay, ChannelAccess, GetRealtimeStatsHandler, UserAuthChangedHandler],
})
export class RealtimeModule {}
