import { Controller, Get, Query } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ApiBadRequestResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../../../common/auth/auth.decorators';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { toExecutionResponse } from '../execution.mapper';
import { ListExecutionsQuery } from '../queries/list-executions.query';
import { AdminListExecutionsRequest, ExecutionListResponse } from './dto/execution.dto';

@ApiTags('admin')
@AdminOnly()
@ApiBadRequestResponse({ description: 'Invalid input; details.fields lists each field', type: ErrorResponse })
@Controller('admin/executions')
export class AdminExecutionsController {
  constructor(private readonly queries: QueryBus) {}

  @Get()
  @ApiOperation({ summary: 'Every run, newest first (filters: user_id, status, language, from, to)' })
  @ApiOkResponse({ type: ExecutionListResponse })
  async list(@Query() query: AdminListExecutionsRequest): Promise<ExecutionListResponse> {
    const { rows, pagination } = await this.queries.execute(new ListExecutionsQuery(query));
    return { executions: rows.map(toExecutionResponse), pagination };
  }
}
