import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { toAiConfigResponse } from '../ai-config.mapper';
import { CreateAiConfigCommand, MAX_AI_CONFIGS_PER_USER } from '../commands/create-ai-config.command';
import { DeleteAiConfigCommand } from '../commands/delete-ai-config.command';
import { ToggleAiConfigCommand } from '../commands/toggle-ai-config.command';
import { UpdateAiConfigCommand } from '../commands/update-ai-config.command';
import { GetAiConfigQuery } from '../queries/get-ai-config.query';
import { ListAiConfigsQuery } from '../queries/list-ai-configs.query';
import { AiConfigListResponse, AiConfigResponse, CreateAiConfigRequest, DeletedResponse, ListAiConfigsRequest, UpdateAiConfigRequest } from './dto/ai-config.dto';

const notFound = { description: 'No such AI config of mine (an admin: of anyone\'s)', type: ErrorResponse };
const nameTaken = { description: 'The owner already has an AI config with this name', type: ErrorResponse };

/**
 * Users' AI configs: JWT only, since a config holds a provider key an API key
 * (made for running code) should not reach. The audit records which fields a
 * write set, never their values.
 */
@ApiTags('ai-configs')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field (an unknown or inactive provider, a refused base_url host)', type: ErrorResponse })
@Controller('ai-configs')
export class AiConfigsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Audit({ action: 'ai_config.create', resourceType: 'ai_config', resourceId: (r) => r.id, metadata: fieldsOf })
  @ApiOperation({
    summary: 'Create an AI config',
    description: `Active unless is_active is false; an active config deactivates my other config of its provider. At most ${MAX_AI_CONFIGS_PER_USER} configs per user.`,
  })
  @ApiCreatedResponse({ type: AiConfigResponse })
  @ApiForbiddenResponse({ description: `FORBIDDEN: I already have ${MAX_AI_CONFIGS_PER_USER} AI configs; ACCOUNT_DISABLED: the account is disabled`, type: ErrorResponse })
  @ApiConflictResponse(nameTaken)
  async create(@CurrentUser() user: Principal, @Body() body: CreateAiConfigRequest): Promise<AiConfigResponse> {
    return toAiConfigResponse(await this.commands.execute(new CreateAiConfigCommand(actorOf(user), body)));
  }

  @Get()
  @ApiOperation({ summary: 'My AI configs, newest first; provider= keeps one provider\'s' })
  @ApiOkResponse({ type: AiConfigListResponse })
  async list(@CurrentUser() user: Principal, @Query() query: ListAiConfigsRequest): Promise<AiConfigListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListAiConfigsQuery(user.user_id, query.provider, query));
    return { ai_configs: rows.map(toAiConfigResponse), pagination };
  }

  @Get(':id')
  @ApiOperation({ summary: 'One of my AI configs (an admin: anyone\'s)' })
  @ApiOkResponse({ type: AiConfigResponse })
  @ApiNotFoundResponse(notFound)
  async get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<AiConfigResponse> {
    return toAiConfigResponse(await this.queries.execute(new GetAiConfigQuery(id, actorOf(user))));
  }

  @Put(':id')
  @Audit({ action: 'ai_config.update', resourceType: 'ai_config', metadata: fieldsOf })
  @ApiOperation({
    summary: 'Change the fields given of one of my AI configs (an admin: anyone\'s)',
    description: 'api_key: null removes the key, base_url: null the base URL. is_active: true deactivates my other config of its provider.',
  })
  @ApiOkResponse({ type: AiConfigResponse })
  @ApiNotFoundResponse(notFound)
  @ApiConflictResponse(nameTaken)
  async update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateAiConfigRequest): Promise<AiConfigResponse> {
    return toAiConfigResponse(await this.commands.execute(new UpdateAiConfigCommand(actorOf(user), id, body)));
  }

  @Delete(':id')
  @Audit({ action: 'ai_config.delete', resourceType: 'ai_config' })
  @ApiOperation({ summary: 'Delete one of my AI configs (an admin: anyone\'s) with its key' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiNotFoundResponse(notFound)
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeleteAiConfigCommand(actorOf(user), id));
    return { success: true };
  }

  @Post(':id/toggle')
  @HttpCode(200)
  @Audit({ action: 'ai_config.toggle', resourceType: 'ai_config' })
  @ApiOperation({ summary: 'Turn one of my AI configs (an admin: anyone\'s) on or off; on, it deactivates my other config of its provider' })
  @ApiOkResponse({ type: AiConfigResponse })
  @ApiNotFoundResponse(notFound)
  async toggle(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<AiConfigResponse> {
    return toAiConfigResponse(await this.commands.execute(new ToggleAiConfigCommand(actorOf(user), id)));
  }
}
