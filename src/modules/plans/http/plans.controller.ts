import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly, Public } from '../../../common/auth/auth.decorators';
import { Audit, fieldsOf } from '../../../common/audit/audit.decorator';
import { ErrorResponse } from '../../../common/errors/error-response.dto';
import { UpdatePlanCommand } from '../commands/update-plan.command';
import { ListPlansQuery } from '../queries/list-plans.query';
import { PlanListResponse, PlanResponse, UpdatePlanRequest } from './dto/plan.dto';

@ApiTags('plans')
@Controller()
export class PlansController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get('user-levels')
  @Public()
  @ApiOperation({ summary: 'The user levels (plans) and their limits' })
  @ApiOkResponse({ type: PlanListResponse })
  async userLevels(): Promise<PlanListResponse> {
    return { plans: await this.queries.execute(new ListPlansQuery()) };
  }

  @Get('plans')
  @Public()
  @ApiOperation({ summary: 'The plans and their limits (same data as /user-levels)' })
  @ApiOkResponse({ type: PlanListResponse })
  async plans(): Promise<PlanListResponse> {
    return this.userLevels();
  }

  @Put('admin/plans/:id')
  @Audit({ action: 'plan.update', resourceType: 'plan', metadata: fieldsOf })
  @AdminOnly()
  @ApiOperation({ summary: "Edit a plan's limits" })
  @ApiOkResponse({ type: PlanResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  async update(@Param('id') id: string, @Body() body: UpdatePlanRequest): Promise<PlanResponse> {
    return this.commands.execute(new UpdatePlanCommand(id, body));
  }
}
