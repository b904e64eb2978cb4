import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyScopes, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { getSnippet, listSnippets } from './code-library.controller';
import { ListSnippetsRequest, SnippetListResponse, SnippetResponse } from './dto/snippet.dto';

/** Seed 000's external API for programs holding an API key: the library's reads under /codes. */
@ApiTags('code-library')
@ApiKeyScopes('code:read')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('codes')
export class CodesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Same as GET /code-library' })
  @ApiOkResponse({ type: SnippetListResponse })
  list(@CurrentUser() user: Principal, @Query() query: ListSnippetsRequest): Promise<SnippetListResponse> {
    return listSnippets(this.queries, user, query);
  }

  @Get(':id')
  @ApiOperation({ summary: 'Same as GET /code-library/:id' })
  @ApiOkResponse({ type: SnippetResponse })
  @ApiNotFoundResponse({ description: 'No such snippet, or another user\'s private one', type: ErrorResponse })
  get(@CurrentUser() user: Principal, @UuidParam() id: string): Promise<SnippetResponse> {
    return getSnippet(this.queries, user, id);
  }
}
