import { Command, CommandHandler, ICommandHandler, QueryBus } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { Principal } from '../../../common/auth/principal';
import { AppError } from '../../../common/errors/app-error';
import { ErrorCode } from '../../../common/errors/error-code';
import { GetPlanQuery } from '../../plans/queries/get-plan.query';
import { ApiKeyView, displayPrefixOf, generateApiKey, toApiKeyView } from '../api-key.mapper';
import { ApiKeyRepository } from '../repositories/api-key.repository';
import { UserRepository } from '../repositories/user.repository';
import { sha256 } from '../token.service';

export type CreatedApiKey = ApiKeyView & { key: string };

/** A key's AI limits as a request sets them: absent keeps (on create: none), null removes. */
export interface ApiKeyAiLimitsInput {
  /** Tokens per UTC month. */
  ai_token_budget?: number | null;
  /** Model names; duplicates are dropped. */
  ai_models?: string[] | null;
}

/** The allow-list as stored: each name once, in the order given. */
export const distinctModels = (models: string[] | null | undefined): string[] | null => (models ? [...new Set(models)] : null);

export class CreateApiKeyCommand extends Command<CreatedApiKey> {
  constructor(
    readonly owner: Principal,
    readonly name: string,
    readonly scopes: string[],
    readonly expiresAt: Date | null,
    readonly aiLimits: ApiKeyAiLimitsInput = {},
  ) {
    super();
  }
}

/** Creates a key and returns its value, the only time it is ever shown. */
@CommandHandler(CreateApiKeyCommand)
export class CreateApiKeyHandler implements ICommandHandler<CreateApiKeyCommand> {
  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UserRepository,
    private readonly keys: ApiKeyRepository,
    private readonly queries: QueryBus,
  ) {}

  async execute({ owner, name, scopes, expiresAt, aiLimits }: CreateApiKeyCommand): Promise<CreatedApiKey> {
    if (expiresAt && expiresAt.getTime() <= Date.now()) {
      throw new AppError(ErrorCode.VALIDATION_ERROR, 'Request validation failed', { fields: { expires_at: ['expires_at must be in the future'] } });
    }
    const plan = owner.role === 'admin' ? null : await this.queries.execute(new GetPlanQuery(owner.level));
    const limit = plan?.max_api_keys ?? null;
    const key = generateApiKey();
    const created = await this.dataSource.transaction(async (manager) => {
      if (limit !== null) {
        // Locking the owner's row serialises concurrent creations, so the count is exact.
        await this.users.lockForUpdate(owner.user_id, manager);
        const count = await this.keys.countUnrevokedKeys(owner.user_id, manager);
        if (count >= limit) {
          throw new AppError(ErrorCode.FORBIDDEN, `The ${owner.level} plan allows ${limit} API key(s); delete one first`, { limit, level: owner.level });
        }
      }
      return this.keys.insert(
        {
          userId: owner.user_id,
          name,
          scopes: [...new Set(scopes)],
          expiresAt,
          keyHash: sha256(key),
          displayPrefix: displayPrefixOf(key),
          aiTokenBudget: aiLimits.ai_token_budget ?? null,
          aiModels: distinctModels(aiLimits.ai_models),
        },
        manager,
      );
    });
    return { ...toApiKeyView(created), key };
  }
}
