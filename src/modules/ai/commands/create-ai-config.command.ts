import { Command, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { noteForAudit } from '../../../common/audit/audit-notes';
import type { Actor } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { uuidv7 } from '../../../common/ids';
import { AiConfigInputs } from '../ai-config-inputs';
import { AiConfigEntity } from '../entities/ai-config.entity';
import { AiConfigRepository, isDuplicateName, isSecondActive } from '../repositories/ai-config.repository';

/**
 * Configs one user may have. Not a plan limit: a sanity bound, far above what
 * anyone switching between a few providers and models needs, that keeps a
 * script from filling the table.
 */
export const MAX_AI_CONFIGS_PER_USER = 50;
export const DEFAULT_TEMPERATURE = 0.7;
export const DEFAULT_MAX_TOKENS = 2048;

export interface AiConfigInput {
  name: string;
  /** A provider_key of the AI catalog. */
  provider: string;
  /** null or left out: the provider's default_base_url. */
  base_url?: string | null;
  /** null or left out: no key (ollama needs none). */
  api_key?: string | null;
  model: string;
  temperature?: number;
  max_tokens?: number;
  /** Default true: a new config is the one to use; the user's other config of its provider is deactivated. */
  is_active?: boolean;
}

/**
 * Adds an AI config to the caller's. Names are unique per user (409); at most
 * MAX_AI_CONFIGS_PER_USER each (403). Created active, it deactivates the
 * caller's other config of the same provider in the same transaction.
 */
export class CreateAiConfigCommand extends Command<AiConfigEntity> {
  constructor(
    readonly actor: Actor,
    readonly input: AiConfigInput,
  ) {
    super();
  }
}

@CommandHandler(CreateAiConfigCommand)
export class CreateAiConfigHandler implements ICommandHandler<CreateAiConfigCommand> {
  constructor(
    private readonly configs: AiConfigRepository,
    private readonly inputs: AiConfigInputs,
  ) {}

  async execute({ actor, input }: CreateAiConfigCommand): Promise<AiConfigEntity> {
    await this.inputs.checkProvider(input.provider);
    if (input.base_url) await this.inputs.checkBaseUrl(input.base_url);
    const now = new Date();
    const row: AiConfigEntity = {
      id: uuidv7(),
      userId: actor.userId,
      name: input.name,
      provider: input.provider,
      baseUrl: input.base_url ?? null,
      ...this.inputs.keyColumns(input.api_key ?? null),
      model: input.model,
      temperature: input.temperature ?? DEFAULT_TEMPERATURE,
      maxTokens: input.max_tokens ?? DEFAULT_MAX_TOKENS,
      isActive: input.is_active ?? true,
      createdAt: now,
      updatedAt: now,
    };
    try {
      const deactivated = await this.configs.transaction(async (manager) => {
        await this.configs.lockOwner(manager, row.userId);
        const count = await this.configs.countOwnedBy(manager, row.userId);
        if (count >= MAX_AI_CONFIGS_PER_USER) {
          throw new AppError(ErrorCode.FORBIDDEN, `You have ${count} AI configs, the most anyone may have; delete one first`, {
            limit: MAX_AI_CONFIGS_PER_USER,
            current: count,
          });
        }
        const others = row.isActive ? await this.configs.deactivateOthers(manager, row.userId, row.provider, row.id, now) : 0;
        await this.configs.insert(manager, row);
        return others;
      });
      if (deactivated > 0) noteForAudit(actor, { deactivated });
    } catch (error) {
      throw writeConflict(error, input.name) ?? error;
    }
    return row;
  }
}

/** The 409 a failed write of a config means, or null when it is not a conflict. */
export function writeConflict(error: unknown, name: string | undefined): AppError | null {
  if (isDuplicateName(error)) return AppError.conflict(`An AI config named ${name ?? ''} already exists`, { field: 'name' });
  if (isSecondActive(error)) return AppError.conflict('Another config of this provider was activated meanwhile; try again', { field: 'is_active' });
  return null;
}
