import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { RealtimeGateway, RealtimeStats } from '../realtime-gateway';

/** This replica's sockets, subscriptions by channel kind, message counts and dropped consumers. */
export class GetRealtimeStatsQuery extends Query<RealtimeStats> {}

@QueryHandler(GetRealtimeStatsQuery)
export class GetRealtimeStatsHandler implements IQueryHandler<GetRealtimeStatsQuery> {
  constructor(private readonly gateway: RealtimeGateway) {}

  async execute(): Promise<RealtimeStats> {
    return this.gateway.stats();
  }
}
