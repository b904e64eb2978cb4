import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { uuidv7 } from '../../../common/ids';
import { ServerRepository } from '../repositories/server.repository';
import { ServerView, toServerView } from '../server.mapper';

/** What a new server is made of (CreateServerRequest implements it; the host is checked there: a name or an IP, no URL). */
export interface ServerInput {
  name: string;
  host: string;
  port: number;
  description?: string | null;
  tags?: string[];
  os?: string | null;
  probe_interval_seconds?: number | null;
  monitored?: boolean;
}

/** A server of the caller's; probed from the next round when `monitored`. */
export class CreateServerCommand extends Command<ServerView> {
  constructor(
    readonly userId: string,
    readonly input: ServerInput,
  ) {
    super();
  }
}

@CommandHandler(CreateServerCommand)
export class CreateServerHandler implements ICommandHandler<CreateServerCommand> {
  constructor(private readonly servers: ServerRepository) {}

  async execute({ userId, input }: CreateServerCommand): Promise<ServerView> {
    const row = await this.servers.create(
      uuidv7(),
      userId,
      {
        name: input.name,
        host: input.host.toLowerCase(),
        port: input.port,
        description: input.description ?? null,
        tags: [...new Set(input.tags ?? [])],
        os: input.os ?? null,
        probeIntervalSeconds: input.probe_interval_seconds ?? null,
      },
      input.monitored ?? false,
    );
    return toServerView(row);
  }
}
