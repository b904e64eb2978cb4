import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiConflictResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AdminOnly, Public } from '../../../common/auth/auth.decorators';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { toModelResponse } from '../catalog.mapper';
import { CreateModelCommand } from '../commands/create-model.command';
import { DeleteModelCommand } from '../commands/delete-model.command';
import { ReorderModelsCommand } from '../commands/reorder-models.command';
import { ToggleModelCommand } from '../commands/toggle-model.command';
import { UpdateModelCommand } from '../commands/update-model.command';
import { ListModelsQuery } from '../queries/list-models.query';
import { DeletedResponse } from './dto/provider.dto';
import {
  BatchUpdateModelOrderRequest, BatchUpdateModelOrderResponse, CreateModelRequest, ListModelsRequest, ModelListResponse, ModelResponse, UpdateModelRequest,
} from './dto/model.dto';

const notFound = { description: 'No such model', type: ErrorResponse };

/** How many models a reorder names: never their ids. */
const orderedItems = (request: FastifyRequest) => {
  const items = (request.body as { items?: unknown } | undefined)?.items;
  return Array.isArray(items) ? { item_count: items.length } : {};
};

@ApiTags('ai-catalog')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('models')
export class ModelsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'The AI model catalog, by sort_order then model name; active models unless active_only=false' })
  @ApiOkResponse({ type: ModelListResponse })
  async list(@Query() query: ListModelsRequest): Promise<ModelListResponse> {
    const filters = { activeOnly: query.active_only !== 'false', provider: query.provider, type: query.type };
    const { rows, pagination } = await this.queries.execute(new ListModelsQuery(filters, query));
    return { models: rows.map(toModelResponse), pagination };
  }

  @Post()
  @AdminOnly()
  @Audit({ action: 'ai_model.create', resourceType: 'ai_model', resourceId: (r) => r.id, metadata: fieldsOf })
  @ApiOperation({ summary: 'Add a model to a provider\'s' })
  @ApiCreatedResponse({ type: ModelResponse })
  @ApiConflictResponse({ description: 'The provider already has a model of this name', type: ErrorResponse })
  async create(@Body() body: CreateModelRequest): Promise<ModelResponse> {
    return toModelResponse(await this.commands.execute(new CreateModelCommand(body)));
  }

  @Post('batch-update-order')
  @HttpCode(200)
  @AdminOnly()
  @Audit({ action: 'ai_model.reorder', resourceType: 'ai_model', metadata: orderedItems })
  @ApiOperation({ summary: 'Set the sort_order of several models at once: all of them, or none if any id is unknown' })
  @ApiOkResponse({ type: BatchUpdateModelOrderResponse })
  @ApiNotFoundResponse({ description: 'An id names no model (details.ids lists them); nothing changed', type: ErrorResponse })
  async reorder(@Body() body: BatchUpdateModelOrderRequest): Promise<BatchUpdateModelOrderResponse> {
    return this.commands.execute(new ReorderModelsCommand(body.items));
  }

  @Put(':id')
  @AdminOnly()
  @Audit({ action: 'ai_model.update', resourceType: 'ai_model', metadata: fieldsOf })
  @ApiOperation({ summary: 'Change the fields given of a model' })
  @ApiOkResponse({ type: ModelResponse })
  @ApiNotFoundResponse(notFound)
  @ApiConflictResponse({ description: 'The provider already has a model of this name', type: ErrorResponse })
  async update(@UuidParam() id: string, @Body() body: UpdateModelRequest): Promise<ModelResponse> {
    return toModelResponse(await this.commands.execute(new UpdateModelCommand(id, body)));
  }

  @Delete(':id')
  @AdminOnly()
  @Audit({ action: 'ai_model.delete', resourceType: 'ai_model' })
  @ApiOperation({ summary: 'Deactivate a model (is_active=false); it stays in the catalog' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiNotFoundResponse(notFound)
  async remove(@UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeleteModelCommand(id));
    return { success: true };
  }

  @Post(':id/toggle')
  @HttpCode(200)
  @AdminOnly()
  @Audit({ action: 'ai_model.toggle', resourceType: 'ai_model' })
  @ApiOperation({ summary: 'Flip a model between active and inactive' })
  @ApiOkResponse({ type: ModelResponse })
  @ApiNotFoundResponse(notFound)
  async toggle(@UuidParam() id: string): Promise<ModelResponse> {
    return toModelResponse(await this.commands.execute(new ToggleModelCommand(id)));
  }
}
