import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import { Actor, mayActOn } from '../../../common/auth/ownership';
import { AppError } from '../../../common/errors/app-error';
import { AiConfigEntity } from '../entities/ai-config.entity';
import { AiConfigRepository } from '../repositories/ai-config.repository';

/** One of the caller's AI configs (an admin: anyone's). Configs are never shared: anyone else's answers 404. */
export class GetAiConfigQuery extends Query<AiConfigEntity> {
  constructor(
    readonly id: string,
    readonly actor: Actor,
  ) {
    super();
  }
}

@QueryHandler(GetAiConfigQuery)
export class GetAiConfigHandler implements IQueryHandler<GetAiConfigQuery> {
  constructor(private readonly configs: AiConfigRepository) {}

  async execute({ id, actor }: GetAiConfigQuery): Promise<AiConfigEntity> {
    const config = await this.configs.findById(id);
    if (!config || !mayActOn(actor, config.userId)) throw AppError.notFound('AI config');
    return config;
  }
}
