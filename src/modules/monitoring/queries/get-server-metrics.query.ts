import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Actor } from '../../../common/auth/ownership';
import { ServerRepository } from '../repositories/server.repository';
import { ServerMetricsRepository } from '../repositories/server-metrics.repository';
import { SampleView, toSampleView } from '../server.mapper';
import { ownedServer } from '../owned-server';

export interface LatestServerMetrics {
  server_id: string;
  /** null: nothing sampled or pushed yet (or only past the retention). */
  metrics: SampleView | null;
}

/** A server's newest sample; someone else's server answers 404. */
export class GetServerMetricsQuery extends Query<LatestServerMetrics> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetServerMetricsQuery)
export class GetServerMetricsHandler implements IQueryHandler<GetServerMetricsQuery> {
  constructor(
    private readonly servers: ServerRepository,
    private readonly metrics: ServerMetricsRepository,
  ) {}

  async execute({ id, actor }: GetServerMetricsQuery): Promise<LatestServerMetrics> {
    await ownedServer(this.servers, id, actor);
    const latest = await this.metrics.latest(id);
    return { server_id: id, metrics: latest ? toSampleView(latest) : null };
  }
}
