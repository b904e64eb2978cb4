import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { noteForAudit } from '../../../common/audit/audit-notes';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AiConfigEntity } from '../entities/ai-config.entity';
import { AiConfigRepository } from '../repositories/ai-config.repository';
import { writeConflict } from './create-ai-config.command';

/**
 * Flips one of the caller's AI configs (an admin: anyone's) on or off; turned
 * on, it deactivates the owner's other config of its provider in the same
 * transaction. Toggles of one user's configs run one at a time (the owner's
 * lock), each reading the state the previous one left: twenty at once flip
 * twenty times and never leave two configs of a provider active.
 */
export class ToggleAiConfigCommand extends Command<AiConfigEntity> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
  ) {
    super();
  }
}

@CommandHandler(ToggleAiConfigCommand)
export class ToggleAiConfigHandler implements ICommandHandler<ToggleAiConfigCommand> {
  constructor(private readonly configs: AiConfigRepository) {}

  async execute({ actor, id }: ToggleAiConfigCommand): Promise<AiConfigEntity> {
    const ownerId = await this.configs.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('AI config');
    const now = new Date();
    try {
      const { toggled, deactivated } = await this.configs.transaction(async (manager) => {
        await this.configs.lockOwner(manager, ownerId);
        const current = await this.configs.findOwned(manager, id, ownerId);
        if (!current) throw AppError.notFound('AI config');
        const isActive = !current.isActive;
        const others = isActive ? await this.configs.deactivateOthers(manager, ownerId, current.provider, id, now) : 0;
        await this.configs.updateOwned(manager, id, ownerId, { isActive, updatedAt: now });
        return { toggled: { ...current, isActive, updatedAt: now }, deactivated: others };
      });
      noteForAudit(actor, { is_active: toggled.isActive, ...(deactivated > 0 && { deactivated }) });
      return toggled;
    } catch (error) {
      throw writeConflict(error, undefined) ?? error;
    }
  }
}
