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
 * server answers 404; an API key reaches only its owner's servers (an
 * admin's key: theirs and `local`, never a user's: a key is an agent's
 * credential, not the admin's hands), a session any its user may act on. A server deleted between the check and the write keeps
 * those rows until retention drops them (every reader checks the server).
 */
export class PushServerMetricsCommand extends Command<PushResult> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly body: unknown,
    /** The caller came with an API key: only the key owner's own servers (and `local` for an admin's key). */
    readonly viaApiKey = false,
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

  async execute({ actor, id, body, viaApiKey, now }: PushServerMetricsCommand): Promise<PushResult> {
    const server = await this.servers.ownerOf(id);
    if (!server) throw AppError.notFound('Server');
    const allowed = viaApiKey ? server.userId === actor.userId || (server.userId === null && actor.admin) : mayActOn(actor, server.userId);
    if (!allowed) throw AppError.notFound('Server');
    const samples = parseSamples(body, now, this.config.retention.metricsDays);
    await this.ingest.write(id, samples, now);
    return { server_id: id, accepted: samples.length };
  }
}
