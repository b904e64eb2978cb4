import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { noteForAudit } from '../../../common/audit/audit-notes';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AiConfigInputs } from '../ai-config-inputs';
import { AiConfigEntity } from '../entities/ai-config.entity';
import { AiConfigRepository } from '../repositories/ai-config.repository';
import { AiConfigInput, writeConflict } from './create-ai-config.command';

/**
 * Changes the fields given of one of the caller's AI configs (an admin:
 * anyone's); anyone else's answers 404. `api_key: null` removes the key,
 * `base_url: null` the base URL. When the config ends up active (turned on,
 * or moved to another provider while active) the owner's other config of its
 * provider is deactivated in the same transaction.
 */
export class UpdateAiConfigCommand extends Command<AiConfigEntity> {
  constructor(
    readonly actor: Actor,
    readonly id: string,
    readonly changes: Partial<AiConfigInput>,
  ) {
    super();
  }
}

@CommandHandler(UpdateAiConfigCommand)
export class UpdateAiConfigHandler implements ICommandHandler<UpdateAiConfigCommand> {
  constructor(
    private readonly configs: AiConfigRepository,
    private readonly inputs: AiConfigInputs,
  ) {}

  async execute({ actor, id, changes }: UpdateAiConfigCommand): Promise<AiConfigEntity> {
    const ownerId = await this.configs.ownerOf(id);
    if (!ownerId || !mayActOn(actor, ownerId)) throw AppError.notFound('AI config');
    if (changes.provider !== undefined) await this.inputs.checkProvider(changes.provider);
    if (changes.base_url) await this.inputs.checkBaseUrl(changes.base_url);

    const now = new Date();
    const set: Partial<AiConfigEntity> = { updatedAt: now };
    if (changes.name !== undefined) set.name = changes.name;
    if (changes.provider !== undefined) set.provider = changes.provider;
    // null clears the base URL and the key; undefined leaves them.
    if (changes.base_url !== undefined) set.baseUrl = changes.base_url;
    if (changes.api_key !== undefined) Object.assign(set, this.inputs.keyColumns(changes.api_key));
    if (changes.model !== undefined) set.model = changes.model;
    if (changes.temperature !== undefined) set.temperature = changes.temperature;
    if (changes.max_tokens !== undefined) set.maxTokens = changes.max_tokens;
    if (changes.is_active !== undefined) set.isActive = changes.is_active;

    try {
      const { updated, deactivated } = await this.configs.transaction(async (manager) => {
        await this.configs.lockOwner(manager, ownerId);
        // Read behind the lock: whether it is active, and of which provider, cannot change until commit.
        const current = await this.configs.findOwned(manager, id, ownerId);
        if (!current) throw AppError.notFound('AI config');
        const next = { ...current, ...set };
        const others = next.isActive ? await this.configs.deactivateOthers(manager, ownerId, next.provider, id, now) : 0;
        if (!(await this.configs.updateOwned(manager, id, ownerId, set))) throw AppError.notFound('AI config');
        return { updated: next, deactivated: others };
      });
      if (deactivated > 0) noteForAudit(actor, { deactivated });
      return updated;
    } catch (error) {
      throw writeConflict(error, changes.name) ?? error;
    }
  }
}
