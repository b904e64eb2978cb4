import { Body, Controller, HttpCode, Delete, Get, Patch, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiCreatedResponse, ApiForbiddenResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { PageQuery } from '../../../common/http/pagination';
import { UuidParam } from '../../../common/http/uuid-param';
import { CreateApiKeyCommand } from '../commands/create-api-key.command';
import { DeleteApiKeyCommand } from '../commands/delete-api-key.command';
import { ToggleApiKeyCommand } from '../commands/toggle-api-key.command';
import { UpdateApiKeyCommand } from '../commands/update-api-key.command';
import { ListApiKeysQuery } from '../queries/list-api-keys.query';
import { ApiKeyListResponse, ApiKeyResponse, CreateApiKeyRequest, CreatedApiKeyResponse, ToggleApiKeyRequest, UpdateApiKeyRequest } from './dto/api-key.dto';
import { SuccessResponse } from './dto/user.dto';

@ApiTags('api-keys')
@Authenticated()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('api-keys')
export class ApiKeysController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @Audit({ action: 'api_key.create', resourceType: 'api_key', resourceId: (r) => r.id, metadata: (request) => ({ name: (request.body as Record<string, unknown> | undefined)?.name, scopes: (request.body as Record<string, unknown> | undefined)?.scopes }) })
  @ApiOperation({ summary: 'Create an API key; the key is in this response only' })
  @ApiCreatedResponse({ type: CreatedApiKeyResponse })
  @ApiForbiddenResponse({ description: "The plan's API key limit is reached", type: ErrorResponse })
  create(@CurrentUser() user: Principal, @Body() body: CreateApiKeyRequest): Promise<CreatedApiKeyResponse> {
    return this.commands.execute(
      new CreateApiKeyCommand(user, body.name, body.scopes ?? ['execute'], body.expires_at ?? null, { ai_token_budget: body.ai_token_budget, ai_models: body.ai_models }),
    );
  }

  @Get()
  @ApiOperation({ summary: 'The current user\'s API keys (without their values)' })
  @ApiOkResponse({ type: ApiKeyListResponse })
  list(@CurrentUser() user: Principal, @Query() query: PageQuery): Promise<ApiKeyListResponse> {
    return this.queries.execute(new ListApiKeysQuery(user.user_id, query.page, query.limit));
  }

  @Patch(':id')
  @Audit({ action: 'api_key.update', resourceType: 'api_key', metadata: fieldsOf })
  @ApiOperation({ summary: 'Rename a key or change its AI limits (mine; an admin: anyone\'s); absent fields are kept, null removes a limit' })
  @ApiOkResponse({ type: ApiKeyResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateApiKeyRequest): Promise<ApiKeyResponse> {
    return this.commands.execute(new UpdateApiKeyCommand(actorOf(user), id, body));
  }

  @Put(':id/toggle')
  @Audit({ action: 'api_key.toggle', resourceType: 'api_key', metadata: (request) => ({ enabled: (request.body as Record<string, unknown> | undefined)?.enabled }) })
  @ApiOperation({ summary: 'Enable or disable a key, mine (an admin: anyone\'s); body optional: without it the key flips' })
  @ApiOkResponse({ type: ApiKeyResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  toggle(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: ToggleApiKeyRequest = {}): Promise<ApiKeyResponse> {
    return this.commands.execute(new ToggleApiKeyCommand(actorOf(user), id, body?.enabled));
  }

  @Post(':id/toggle')
  @HttpCode(200)
  @Audit({ action: 'api_key.toggle', resourceType: 'api_key', metadata: (request) => ({ enabled: (request.body as Record<string, unknown> | undefined)?.enabled }) })
  @ApiOperation({ summary: 'Same as PUT /api-keys/:id/toggle (for clients that toggle with POST)' })
  @ApiOkResponse({ type: ApiKeyResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  togglePost(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: ToggleApiKeyRequest = {}): Promise<ApiKeyResponse> {
    return this.toggle(user, id, body);
  }

  @Delete(':id')
  @Audit({ action: 'api_key.delete', resourceType: 'api_key' })
  @ApiOperation({ summary: 'Delete a key, mine (an admin: anyone\'s); requests using it answer 401 at once' })
  @ApiOkResponse({ type: SuccessResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<SuccessResponse> {
    await this.commands.execute(new DeleteApiKeyCommand(actorOf(user), id));
    return { success: true };
  }
}
