import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CreateModelHandler } from './commands/create-model.command';
import { CreateProviderHandler } from './commands/create-provider.command';
import { DeleteModelHandler } from './commands/delete-model.command';
import { DeleteProviderHandler } from './commands/delete-provider.command';
import { RecordProviderOutcomeHandler } from './commands/record-provider-outcome.command';
import { ReorderModelsHandler } from './commands/reorder-models.command';
import { ToggleModelHandler } from './commands/toggle-model.command';
import { UpdateModelHandler } from './commands/update-model.command';
import { UpdateProviderHandler } from './commands/update-provider.command';
import { AiModelEntity } from './entities/ai-model.entity';
import { AiProviderEntity } from './entities/ai-provider.entity';
import { ModelsController } from './http/models.controller';
import { ProvidersController } from './http/providers.controller';
import { GetModelHandler } from './queries/get-model.query';
import { GetProviderByIdHandler } from './queries/get-provider-by-id.query';
import { GetProviderCredentialsHandler } from './queries/get-provider-credentials.query';
import { GetProviderHandler } from './queries/get-provider.query';
import { ListModelOfferingsHandler } from './queries/list-model-offerings.query';
import { ListModelsHandler } from './queries/list-models.query';
import { ListProvidersHandler } from './queries/list-providers.query';
import { ProviderHealth } from './provider-health';
import { ModelRepository } from './repositories/model.repository';
import { ProviderRepository } from './repositories/provider.repository';

const controllers = [ProvidersController, ModelsController];
const commandHandlers = [
  CreateProviderHandler, UpdateProviderHandler, DeleteProviderHandler,
  CreateModelHandler, UpdateModelHandler, DeleteModelHandler, ToggleModelHandler, ReorderModelsHandler,
  RecordProviderOutcomeHandler,
];
const queryHandlers = [ListProvidersHandler, GetProviderByIdHandler, GetProviderHandler, GetProviderCredentialsHandler, ListModelsHandler, GetModelHandler,
  ListModelOfferingsHandler];
const repositories = [ProviderRepository, ModelRepository];

/**
 * The AI catalog: the providers the platform can call (with its own keys for
 * them, sealed) and the models each offers, with context sizes and prices.
 * Other contexts read it through GetProviderQuery, GetModelQuery and
 * ListModelOfferingsQuery (a model's providers in failover order), and report
 * each call's outcome with RecordProviderOutcomeCommand: ProviderHealth cools
 * a failing provider down.
 */
@Module({
  // Only its own tables; SecretBox (sealing platform keys) comes from the global core module.
  imports: [TypeOrmModule.forFeature([AiProviderEntity, AiModelEntity])],
  controllers,
  providers: [...repositories, ...commandHandlers, ...queryHandlers, ProviderHealth],
})
export class AiCatalogModule {}
