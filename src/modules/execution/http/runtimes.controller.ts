import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../../../common/auth/auth.decorators';
import { NoQueryPipe } from '../../../common/http/no-query.pipe';
import { ListRuntimesQuery } from '../queries/list-runtimes.query';
import { RuntimeListResponse } from './dto/execution.dto';

@ApiTags('execution')
@Controller('runtimes')
export class RuntimesController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Languages, their versions and default limits, and how code is sandboxed here' })
  @ApiOkResponse({ type: RuntimeListResponse })
  list(@Query(NoQueryPipe) _query: unknown): Promise<RuntimeListResponse> {
    return this.queries.execute(new ListRuntimesQuery());
  }
}
