import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, CurrentUser } from '../../../common/auth/auth.decorators';
import type { Principal } from '../../../common/auth/principal';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UuidParam } from '../../../common/http/uuid-param';
import { ListUserSnippetsQuery } from '../queries/list-user-snippets.query';
import { toSnippetResponse } from '../snippet.mapper';
import { SnippetFiltersRequest, SnippetListResponse } from './dto/snippet.dto';

/** A user's snippets on their profile: part of the community pages, so a user login only (no API keys). */
@ApiTags('code-library')
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('users')
export class UserCodeLibraryController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':id/code-library')
  @Authenticated()
  @ApiOperation({
    summary: 'A user\'s snippets, newest first: the public ones, or all of them for the user themself (filters: q, tag, language)',
    description: 'An admin too sees only the public ones here. An unknown user has an empty list.',
  })
  @ApiOkResponse({ type: SnippetListResponse })
  async list(@CurrentUser() user: Principal, @UuidParam() id: string, @Query() query: SnippetFiltersRequest): Promise<SnippetListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListUserSnippetsQuery(id, user.user_id, query));
    return { snippets: rows.map(toSnippetResponse), pagination };
  }
}
