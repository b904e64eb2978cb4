import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBadRequestResponse, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags,
  ApiTooManyRequestsResponse, ApiUnprocessableEntityResponse, getSchemaPath,
} from '@nestjs/swagger';
import { ApiKeyScopes, Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import { actorOf } from '../../../common/auth/ownership';
import type { Principal } from '../../../common/auth/principal';
import { Audit } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import type { ExecutionResult } from '../../execution/commands/run-code.command';
import { CreateSnippetCommand } from '../commands/create-snippet.command';
import { DeleteSnippetCommand } from '../commands/delete-snippet.command';
import { RunSnippetCommand } from '../commands/run-snippet.command';
import { SaveSnippetCommand } from '../commands/save-snippet.command';
import { UpdateSnippetCommand } from '../commands/update-snippet.command';
import { GetSnippetQuery } from '../queries/get-snippet.query';
import { ListSnippetsQuery } from '../queries/list-snippets.query';
import { toSnippetResponse } from '../snippet.mapper';
import {
  CreateSnippetRequest, DeletedResponse, ListSnippetsRequest, RunSnippetRequest, SavedSnippetResponse, SaveSnippetRequest, SnippetListResponse,
  SnippetResponse,
  UpdateSnippetRequest,
} from './dto/snippet.dto';

// Names only: code bodies never go into the audit log.
const changedFields = (request: { body?: unknown }) => ({ fields: Object.keys((request.body as object | undefined) ?? {}) });
/** What a saved copy came from: the two ids the request may name, nothing else of it. */
const savedFrom = (request: { body?: unknown }) => {
  const { code_id, post_id } = (request.body ?? {}) as Record<string, unknown>;
  return { code_id, post_id };
};

/** As POST /execute answers an environment_id the caller may not run with. */
const environmentNotFound = { description: 'environment_id names no environment I may run with (mine, a public one; an admin: any): "Environment not found"', type: ErrorResponse };

@ApiTags('code-library')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('code-library')
export class CodeLibraryController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiKeyScopes('code:write')
  @Audit({ action: 'code.create', resourceType: 'snippet', resourceId: (r) => r.id, metadata: changedFields })
  @ApiOperation({ summary: 'Add a snippet to my library' })
  @ApiCreatedResponse({ type: SnippetResponse })
  @ApiNotFoundResponse(environmentNotFound)
  async create(@CurrentUser() user: Principal, @Body() body: CreateSnippetRequest): Promise<SnippetResponse> {
    return toSnippetResponse(await this.commands.execute(new CreateSnippetCommand(actorOf(user), body)));
  }

  @Get()
  @ApiKeyScopes('code:read')
  @ApiOperation({ summary: 'My snippets, newest first (filters: q over title/description/code, tag, language, is_public)' })
  @ApiOkResponse({ type: SnippetListResponse })
  list(@CurrentUser() user: Principal, @Query() query: ListSnippetsRequest): Promise<SnippetListResponse> {
    return listSnippets(this.queries, user, query);
  }

  @Post('save')
  @Authenticated()
  @Audit({ action: 'code.save', resourceType: 'snippet', resourceId: (r) => r.id, metadata: savedFrom })
  @ApiOperation({
    summary: 'Copy a snippet I may read, or a post\'s code, into my library as a private snippet',
    description: '`code_id`: a snippet of mine or a public one (an admin: any); `post_id`: a community post.',
  })
  @ApiCreatedResponse({ type: SavedSnippetResponse })
  @ApiNotFoundResponse({ description: 'No such snippet, another user\'s private one, or no post I may read', type: ErrorResponse })
  @ApiUnprocessableEntityResponse({ description: 'post_id: the post has no code, its code is in a language the library does not keep, or too long for a snippet', type: ErrorResponse })
  async save(@CurrentUser() user: Principal, @Body() body: SaveSnippetRequest): Promise<SavedSnippetResponse> {
    const { id } = await this.commands.execute(new SaveSnippetCommand(actorOf(user), body));
    return { id, message: 'Snippet saved to your library' };
  }

  @Get(':id')
  @ApiKeyScopes('code:read')
  @ApiOperation({ summary: 'One snippet: mine, or a public one (an admin: any)' })
  @ApiOkResponse({ type: SnippetResponse })
  @ApiNotFoundResponse({ description: 'No such snippet, or another user\'s private one', type: ErrorResponse })
  get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<SnippetResponse> {
    return getSnippet(this.queries, user, id);
  }

  @Put(':id')
  @ApiKeyScopes('code:write')
  @Audit({ action: 'code.update', resourceType: 'snippet', metadata: changedFields })
  @ApiOperation({ summary: 'Change the fields given of one of my snippets (an admin: anyone\'s)' })
  @ApiOkResponse({ type: SnippetResponse })
  @ApiNotFoundResponse({ description: `No such snippet of mine, or ${environmentNotFound.description}`, type: ErrorResponse })
  async update(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: UpdateSnippetRequest): Promise<SnippetResponse> {
    return toSnippetResponse(await this.commands.execute(new UpdateSnippetCommand(actorOf(user), id, body)));
  }

  @Delete(':id')
  @ApiKeyScopes('code:write')
  @Audit({ action: 'code.delete', resourceType: 'snippet' })
  @ApiOperation({ summary: 'Delete one of my snippets, an admin anyone\'s (copies others saved keep their code)' })
  @ApiOkResponse({ type: DeletedResponse })
  @ApiNotFoundResponse({ description: 'No such snippet of mine', type: ErrorResponse })
  async remove(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<DeletedResponse> {
    await this.commands.execute(new DeleteSnippetCommand(actorOf(user), id));
    return { success: true };
  }

  @Post(':id/run')
  @HttpCode(200)
  @ApiKeyScopes('execute')
  @Audit({ action: 'code.run', resourceType: 'snippet' })
  @ApiOperation({ summary: 'Run a snippet (mine or a public one; an admin: any) with its environment; counts like POST /execute' })
  @ApiOkResponse({ description: 'The finished run, as POST /execute answers it', schema: { $ref: getSchemaPath('ExecutionResponse') } })
  @ApiNotFoundResponse({ description: 'No such snippet, another user\'s private one, or its environment is gone', type: ErrorResponse })
  @ApiTooManyRequestsResponse({ description: 'QUOTA_EXCEEDED (daily quota) or RATE_LIMITED', type: ErrorResponse })
  @ApiServiceUnavailableResponse({ description: 'No sandbox on this machine, or the queue is full', type: ErrorResponse })
  run(@CurrentUser() user: Principal, @UuidParam() id: string, @Body() body: RunSnippetRequest = {}): Promise<ExecutionResult> {
    return this.commands.execute(new RunSnippetCommand(user, id, body ?? {}));
  }
}

/** GET /codes and GET /code-library answer the same; these keep the two controllers' reads one code path. */
export async function listSnippets(queries: QueryBus, user: Principal, query: ListSnippetsRequest): Promise<SnippetListResponse> {
  const isPublic = query.is_public === undefined ? undefined : query.is_public === 'true';
  const { rows, pagination } = await queries.execute(new ListSnippetsQuery({ ...query, is_public: isPublic, user_id: user.user_id }));
  return { snippets: rows.map(toSnippetResponse), pagination };
}

export async function getSnippet(queries: QueryBus, user: Principal, id: string): Promise<SnippetResponse> {
  return toSnippetResponse(await queries.execute(new GetSnippetQuery(id, actorOf(user))));
}
