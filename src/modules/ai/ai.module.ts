import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AiCatalogModule } from '../ai-catalog/ai-catalog.module';
import { AiConfigInputs } from './ai-config-inputs';
import { BaseUrlPolicy } from './base-url-policy';
import { CreateAiConfigHandler } from './commands/create-ai-config.command';
import { DeleteAiConfigHandler } from './commands/delete-ai-config.command';
import { ToggleAiConfigHandler } from './commands/toggle-ai-config.command';
import { UpdateAiConfigHandler } from './commands/update-ai-config.command';
import { AiConfigEntity } from './entities/ai-config.entity';
import { AiConfigsController } from './http/ai-configs.controller';
import { GetAiConfigHandler } from './queries/get-ai-config.query';
import { ListAiConfigsHandler } from './queries/list-ai-configs.query';
import { ResolveAiCredentialsHandler } from './queries/resolve-ai-credentials.query';
import { AiConfigRepository } from './repositories/ai-config.repository';

const controllers = [AiConfigsController];
const commandHandlers = [CreateAiConfigHandler, UpdateAiConfigHandler, DeleteAiConfigHandler, ToggleAiConfigHandler];
const queryHandlers = [GetAiConfigHandler, ListAiConfigsHandler, ResolveAiCredentialsHandler];
const repositories = [AiConfigRepository];

/**
 * Users' AI configs: the provider, model, settings and (sealed) key each user
 * talks to models with. ResolveAiCredentialsQuery hands a user's active config
 * of a provider, key opened, to whoever calls the provider for them.
 */
@Module({
  // AI catalog: GetProviderQuery (a config's provider must be one of the catalog's, and active).
  // SecretBox (sealing keys) and the config (AI_ALLOW_LINK_LOCAL_BASE_URLS) come from the global core module.
  imports: [TypeOrmModule.forFeature([AiConfigEntity]), AiCatalogModule],
  controllers,
  providers: [...repositories, ...commandHandlers, ...queryHandlers, AiConfigInputs, BaseUrlPolicy],
})
export class AiModule {}
