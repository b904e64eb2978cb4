import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AiCatalogModule } from '../ai-catalog/ai-catalog.module';
import { AiConfigInputs } from './ai-config-inputs';
import { BaseUrlPolicy } from './base-url-policy';
import { CreateAiConfigHandler } from './commands/create-ai-config.command';
import { DeleteAiConfigHandler } from './commands/delete-ai-config.command';
import { ChatExchange } from './chat-exchange';
import { AiLimits } from './ai-limits';
import { DeleteConversationHandler } from './commands/delete-conversation.command';
import { RenameConversationHandler } from './commands/rename-conversation.command';
import { SendChatMessageHandler } from './commands/send-chat-message.command';
import { StreamChatMessageHandler } from './commands/stream-chat-message.command';
import { ToggleAiConfigHandler } from './commands/toggle-ai-config.command';
import { UpdateAiConfigHandler } from './commands/update-ai-config.command';
import { AiConfigEntity } from './entities/ai-config.entity';
import { AiConfigsController } from './http/ai-configs.controller';
import { ChatController } from './http/chat.controller';
import { ConversationsController } from './http/conversations.controller';
import { GenerateCodeController } from './http/generate-code.controller';
import { GenerateCodeHandler } from './commands/generate-code.command';
import { ExecutionModule } from '../execution/execution.module';
import { GetAiConfigHandler } from './queries/get-ai-config.query';
import { GetAiUsageHandler } from './queries/get-ai-usage.query';
import { ListAiConfigsHandler } from './queries/list-ai-configs.query';
import { ListConversationMessagesHandler } from './queries/list-conversation-messages.query';
import { ListConversationsHandler } from './queries/list-conversations.query';
import { ListCallableModelsHandler } from './queries/list-callable-models.query';
import { ResolveAiCredentialsHandler } from './queries/resolve-ai-credentials.query';
import { AiConfigRepository } from './repositories/ai-config.repository';
import { ConversationRepository } from './repositories/conversation.repository';
import { ChatUpstream } from './upstream/chat-upstream';
import { GatewayCalls, GatewayCompleteHandler, GatewayStreamHandler } from './gateway/gateway-chat.command';
import { UsageRepository } from './repositories/usage.repository';
import { GatewayFrameworkErrors } from './gateway/gateway-framework-errors';
import { OpenAiGatewayController } from './gateway/openai-gateway.controller';

const controllers = [AiConfigsController, ChatController, ConversationsController,
  OpenAiGatewayController,
  GenerateCodeController,
];
const commandHandlers = [
  CreateAiConfigHandler, UpdateAiConfigHandler, DeleteAiConfigHandler, ToggleAiConfigHandler,
  SendChatMessageHandler, StreamChatMessageHandler, RenameConversationHandler, DeleteConversationHandler,
  GatewayCompleteHandler, GatewayStreamHandler,
  GenerateCodeHandler,
];
const queryHandlers = [
  GetAiConfigHandler, ListAiConfigsHandler, ResolveAiCredentialsHandler,
  ListConversationsHandler, ListConversationMessagesHandler, GetAiUsageHandler, ListCallableModelsHandler,
];
const repositories = [AiConfigRepository, ConversationRepository];

/**
 * Users' AI configs: the provider, model, settings and (sealed) key each user
 * talks to models with. ResolveAiCredentialsQuery hands a user's active config
 * of a provider, key opened, to whoever calls the provider for them.
 * Chat: conversations, their messages and usage; ChatUpstream calls the providers.
 */
@Module({
  // AI catalog: GetProviderQuery (a config's provider must be one of the catalog's, and active);
  // GetModelQuery and GetProviderCredentialsQuery (chat: the model, its prices and context, the platform key).
  // AI catalog also: ListModelOfferingsQuery (a model's providers in failover order) and RecordProviderOutcomeCommand (their health).
  // Identity: GetUserQuery, GetApiKeyAiLimitsQuery and plans: GetPlanQuery (a caller's AI limits, AiLimits), through the global buses.
  // SecretBox (sealing keys) and the config (AI_ALLOW_LINK_LOCAL_BASE_URLS) come from the global core module.
  imports: [TypeOrmModule.forFeature([AiConfigEntity]), AiCatalogModule,
    // Execution: RunCodeCommand (POST /ai/generate-code with run: the code runs under the caller's plan).
    ExecutionModule,
  ],
  controllers,
  providers: [...repositories, ...commandHandlers, ...queryHandlers, AiConfigInputs, BaseUrlPolicy, ChatExchange, ChatUpstream,
    GatewayCalls, UsageRepository, GatewayFrameworkErrors, AiLimits],
})
export class AiModule {}
