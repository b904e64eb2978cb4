import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { AppError } from '../../../common/errors/app-error';
import { ProviderRepository } from '../repositories/provider.repository';

/**
 * Retires a provider: it stays in the catalog, inactive (is_active=false), so
 * its models and whatever other contexts stored under its key keep a provider
 * to name. Deleting it again changes nothing.
 */
export class DeleteProviderCommand extends Command<void> {
  constructor(readonly id: string) {
    super();
  }
}

@CommandHandler(DeleteProviderCommand)
export class DeleteProviderHandler implements ICommandHandler<DeleteProviderCommand> {
  constructor(private readonly providers: ProviderRepository) {}

  async execute({ id }: DeleteProviderCommand): Promise<void> {
    if (!(await this.providers.update(id, { isActive: false, updatedAt: new Date() }))) throw AppError.notFound('Provider');
  }
}
