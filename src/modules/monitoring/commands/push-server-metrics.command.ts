import { Inject } from '@nestjs/common';
import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { APP_CONFIG, AppConfig } from '../../../config/app-config';
import { parseSamples } from '../metric-samples';
import { MetricsIngest } from '../ingest/metrics-ingest';
import { ServerRepository } from '../repositories/server.repository';

export interface PushResult {
  server_id: string;
  /** Samples stored. */
  accepted: number;
}

/**
 * An agent's samples of a server of the caller's (the API key's owner, or a
 * user's session): validated all or nothing (metric-samples.ts), then stored
 * with the pushes arriving meanwhile in one COPY (MetricsIngest), which also
 * moves the server's last_seen_at; answered once committed. Someone else's
 * server answers 404. A server deleted between the check and the write keeps
 * those rows until retention drops them (every reader checks the server).
 */
export class PushServerMetricsCommand extends Command<PushResult> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly body: unknown,
    readonly now: Date = new Date(),
  ) {
    super();
  }
}

@CommandHandler(PushServerMetricsCommand)
export class PushServerMetricsHandler implements ICommandHandler<PushServerMetricsCommand> {
  constructor(
    private readonly servers: ServerRepository,
    private readonly ingest: MetricsIngest,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async execute({ actor, id, body, now }: PushServerMetricsCommand): Promise<PushResult> {
    const server = await this.servers.ownerOf(id);
    if (!server || !mayActOn(actor, server.userId)) throw AppError.notFound('Server');
    const samples = parseSamples(body, now, this.config.retention.metricsDays);
    await this.ingest.write(id, samples, now);
    return { server_id: id, accepted: samples.length };
  }
}
