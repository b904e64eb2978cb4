import { Body, Controller, Delete, Get, Post, Put } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, Authenticated } from '../../../common/auth/auth.decorators';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { toProviderResponse } from '../catalog.mapper';
import type { AiProviderEntity } from '../entities/ai-provider.entity';
import { ProviderHealth } from '../provider-health';
import { CreateProviderCommand } from '../commands/create-provider.command';
import { DeleteProviderCommand } from '../commands/delete-provider.command';
import { UpdateProviderCommand } from '../commands/update-provider.command';
import { GetProviderByIdQuery } from '../queries/get-provider-by-id.query';
import { ListProvidersQuery } from '../queries/list-providers.query';
import { CreateProviderRequest, DeletedResponse, ProviderListResponse, ProviderResponse, UpdateProviderRequest } from './dto/provider.dto';

const notFound = { description: 'No such provider', type: ErrorResponse };

@ApiTags('ai-catalog')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('providers')
export class ProvidersController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
    private readonly health: ProviderHealth,
  ) {}

  private toResponse(row: AiProviderEntity): ProviderResponse {
    return toProviderResponse(row, this.health.view(row.providerKey));
  }

  @Get()
  @Authenticated()
  @ApiOperation({ summary: 'The AI providers, active or not, by sort_order, with each one\'s health; a platform key only as a mask' })
  @ApiOkResponse({ type: ProviderListResponse })
  async list(): Promise<ProviderListResponse> {
    const providers = await this.queries.execute(new ListProvidersQuery());
    return { providers: providers.map((row) => this.toResponse(row)) };
  }

  @Get(':id')
  @Authenticated()
  @ApiOperation({ summary: 'One AI provider' })
  @ApiOkResponse({ type: ProviderResponse })
  @ApiNotFoundResponse(notFound)
  async get(@UuidParam() id: string): Promise<ProviderResponse> {
    return this.toResponse(await this.queries.execute(new GetProviderByIdQuery(id)));
  }

  @Post()
  @AdminOnly()
  // Field names only: api_key's value never reaches the audit log.
  @Audit({ action: 'ai_provider.create', resourceType: 'ai_provider', resourceId: (r) => r.id, metadata: fieldsOf })
  @ApiOperation({ summary: 'Add an AI provider', description: 'A platform `api_key` is stored encrypted and only ever shown masked.' })
  @ApiCreatedResponse({ type: ProviderResponse })
  @ApiConflictResponse({ description: 'A provider with this provider_key exists', type: ErrorResponse })
  async create(@Body() body: CreateProviderRequest): Promise<ProviderResponse> {
    return this.toResponse(await this.commands.execute(new CreateProviderCommand(body)));
  }

  @Put(':id')
  @AdminOnly()
  @Audit({ action: 'ai_provider.update', resourceType: 'ai_provider', metadata: fieldsOf })
  @ApiOperation({ summary: 'Change the fields given of an AI provider; api_key null removes the platform key' })
  @ApiOkResponse({ type: ProviderResponse })
  @ApiNotFoundResponse(notFound)
  async update(@UuidParam() id: string, @Body() body: UpdateProviderRequest): Promise<ProviderResponse> {
    return this.toResponse(await this.commands.execute(new UpdateProviderCommand(id, body)));
  }

  @Delete(':id')
  @AdminOnly()
  @Audit({ action: 'ai_provider.delete', resourceType: 'ai_provider' })
  @ApiOperation({ summary: 'Deactivate an AI provider (is_active=false); it stays in the catalog' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiNotFoundResponse(notFound)
  async remove(@UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeleteProviderCommand(id));
    return { success: true };
  }
}
