import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { ProviderHealth } from '../provider-health';

/**
 * The outcome of one call to a provider's own endpoint, for its health
 * (ProviderHealth): a success, or a failure that is the provider's (5xx, a
 * timeout, a broken reply) with its message. The caller's own mistakes (4xx)
 * and calls to a user's own base_url are not reported.
 */
export class RecordProviderOutcomeCommand extends Command<void> {
  constructor(
    readonly providerKey: string,
    readonly failure: string | null,
  ) {
    super();
  }
}

@CommandHandler(RecordProviderOutcomeCommand)
export class RecordProviderOutcomeHandler implements ICommandHandler<RecordProviderOutcomeCommand> {
  constructor(private readonly health: ProviderHealth) {}

  async execute({ providerKey, failure }: RecordProviderOutcomeCommand): Promise<void> {
    if (failure === null) this.health.recordSuccess(providerKey);
    else this.health.recordFailure(providerKey, failure);
  }
}
